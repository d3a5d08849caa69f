"""cnnkit: build, train and understand convolutional neural networks, Keras-style, on PyTorch.

``import cnnkit as keras`` works for ordinary Keras image-classification code::

    import cnnkit as keras
    model = keras.Sequential([keras.Input(shape=(28, 28, 1)), keras.layers.Flatten(),
                              keras.layers.Dense(10, activation="softmax")])
"""

import importlib
from types import ModuleType
from typing import TYPE_CHECKING

from cnnkit import activations as activations
from cnnkit import arithmetic as arithmetic
from cnnkit import backend as backend
from cnnkit import callbacks as callbacks
from cnnkit import config as config
from cnnkit import constraints as constraints
from cnnkit import data as data
from cnnkit import datasets as datasets
from cnnkit import export as export
from cnnkit import initializers as initializers
from cnnkit import inspect as inspect
from cnnkit import layers as layers
from cnnkit import losses as losses
from cnnkit import memory as memory
from cnnkit import metrics as metrics
from cnnkit import models as models
from cnnkit import neighbors as neighbors
from cnnkit import ops as ops
from cnnkit import optimizers as optimizers
from cnnkit import preprocessing as preprocessing
from cnnkit import random as random
from cnnkit import regularizers as regularizers
from cnnkit import saving as saving
from cnnkit import signal as signal
from cnnkit import similarity as similarity
from cnnkit import utils as utils
from cnnkit import zoo as zoo
from cnnkit.layers import Input as Input
from cnnkit.models import Model as Model
from cnnkit.models import Sequential as Sequential

__version__ = "0.1.0"

# The drawing and explaining subpackages pull in matplotlib (about half a second of import):
# they load on first use (``cnnkit.plots``, ``from cnnkit import report``), so that a script
# that only trains starts as fast as plain PyTorch.
_ON_FIRST_USE = ("explain", "interpret", "plots", "report")

if TYPE_CHECKING:
    from cnnkit import explain as explain
    from cnnkit import interpret as interpret
    from cnnkit import plots as plots
    from cnnkit import report as report


def __getattr__(name: str) -> ModuleType:
    """Import the subpackages of ``_ON_FIRST_USE`` when first reached (PEP 562)."""
    if name in _ON_FIRST_USE:
        return importlib.import_module(f"cnnkit.{name}")
    raise AttributeError(f"module 'cnnkit' has no attribute {name!r}")


def __dir__() -> list[str]:
    """The module's names, the subpackages loaded on first use included."""
    return sorted({*globals(), *_ON_FIRST_USE})
