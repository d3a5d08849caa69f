"""Saving and loading models: architecture as JSON, tensors as safetensors, in one file.

The file is a plain safetensors file (any extension: ``.keras``, ``.h5``, ``.cnnkit``...).
Its header metadata holds the model's JSON description, the compile settings and the
optimizer's non-tensor state; its tensors are the weights (PyTorch layouts, named as in
``model.state_dict()``) and the optimizer's tensors. Loading never unpickles and never
imports anything named in the file: class names are looked up among cnnkit's own layers and
the classes the caller allows (``custom_objects``, ``register_serializable``).
"""

from __future__ import annotations

from cnnkit.models._from_config import model_from_config as model_from_config
from cnnkit.models._from_config import model_from_json as model_from_json
from cnnkit.models._model_file import load_model as load_model
from cnnkit.models._model_file import load_weights as load_weights
from cnnkit.models._model_file import restore_into as restore_into
from cnnkit.models._model_file import save_model as save_model
from cnnkit.models._model_file import save_weights as save_weights
from cnnkit.models._registry import register_serializable as register_serializable

register_keras_serializable = register_serializable  # Keras' name

__all__ = [
    "load_model",
    "load_weights",
    "model_from_config",
    "model_from_json",
    "register_keras_serializable",
    "register_serializable",
    "restore_into",
    "save_model",
    "save_weights",
]
