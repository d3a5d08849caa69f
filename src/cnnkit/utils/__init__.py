"""Utilities with Keras' names: ``to_categorical``, ``set_random_seed``, and the image file
helpers ``load_img``, ``img_to_array``, ``array_to_img``, ``save_img``, a folder of images as
a lazy dataset (``image_dataset_from_directory``, a ``Dataset``), batches made by Python code
(``PyDataset``), ``split_dataset``, ``normalize``, and the model diagrams
``plot_model`` and ``model_to_dot`` (drawn by cnnkit.plots)."""

import importlib
from typing import TYPE_CHECKING, Any

from cnnkit._dataset import Dataset as Dataset
from cnnkit._pydataset import PyDataset as PyDataset
from cnnkit.utils._dataset_utils import normalize as normalize
from cnnkit.utils._dataset_utils import split_dataset as split_dataset
from cnnkit.utils._image import array_to_img as array_to_img
from cnnkit.utils._image import img_to_array as img_to_array
from cnnkit.utils._image import load_img as load_img
from cnnkit.utils._image import save_img as save_img
from cnnkit.utils._image_dataset import (
    image_dataset_from_directory as image_dataset_from_directory,
)
from cnnkit.utils._labels import to_categorical as to_categorical
from cnnkit.utils._seed import set_random_seed as set_random_seed

if TYPE_CHECKING:
    from cnnkit.plots import model_to_dot as model_to_dot
    from cnnkit.plots import plot_model as plot_model

_DRAWN_BY_PLOTS = ("model_to_dot", "plot_model")


def __getattr__(name: str) -> Any:
    """``plot_model`` and ``model_to_dot`` from cnnkit.plots, imported (with matplotlib) on
    first use so that ``import cnnkit`` stays light."""
    if name in _DRAWN_BY_PLOTS:
        return getattr(importlib.import_module("cnnkit.plots"), name)
    raise AttributeError(f"module 'cnnkit.utils' has no attribute {name!r}")
