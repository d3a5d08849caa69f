"""Optimizers with Keras' names, defaults and arithmetic, running PyTorch kernels: ``get`` by
name, ``serialize`` / ``deserialize`` for the model file, Keras 2's spellings with a warning."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any

import torch

from cnnkit import _lr_schedules as schedules
from cnnkit._registry import Registry
from cnnkit.optimizers._adam import Adam as Adam
from cnnkit.optimizers._adam import Adamax as Adamax
from cnnkit.optimizers._adam import AdamW as AdamW
from cnnkit.optimizers._adam import Lion as Lion
from cnnkit.optimizers._adam import Nadam as Nadam
from cnnkit.optimizers._base import Optimizer as Optimizer
from cnnkit.optimizers._base import _Wrapped
from cnnkit.optimizers._classic import SGD as SGD
from cnnkit.optimizers._classic import Adadelta as Adadelta
from cnnkit.optimizers._classic import Adagrad as Adagrad
from cnnkit.optimizers._classic import RMSprop as RMSprop
from cnnkit.optimizers._keras2 import keras2_alias

__all__ = [
    "Optimizer",
    "SGD",
    "Adam",
    "AdamW",
    "RMSprop",
    "Adagrad",
    "Adadelta",
    "Adamax",
    "Nadam",
    "Lion",
    "get",
    "serialize",
    "deserialize",
    "schedules",
]

# ``cnnkit.optimizers.schedules`` as Keras spells it (``import ...schedules`` works, as os.path).
sys.modules.setdefault(f"{__name__}.schedules", schedules)

_BUILT_IN = {
    "sgd": SGD,
    "adam": Adam,
    "adamw": AdamW,
    "rmsprop": RMSprop,
    "adagrad": Adagrad,
    "adadelta": Adadelta,
    "adamax": Adamax,
    "nadam": Nadam,
    "lion": Lion,
}
REGISTRY = Registry(
    "optimizers",
    "optimizer",
    _BUILT_IN,
    base=Optimizer,
    expected="a name or an optimizer object",
)

# Keras 2's lower-case names (``optimizers.adam(lr=0.01)``), each warning once.
sgd = keras2_alias("sgd", SGD)
rmsprop = keras2_alias("rmsprop", RMSprop)
adagrad = keras2_alias("adagrad", Adagrad)
adadelta = keras2_alias("adadelta", Adadelta)
adam = keras2_alias("adam", Adam)
adamax = keras2_alias("adamax", Adamax)
nadam = keras2_alias("nadam", Nadam)


def get(identifier: str | dict | Optimizer | torch.optim.Optimizer) -> Optimizer:
    """Resolve a name ('adam', 'nadam', ...), a saved config, an Optimizer or a torch optimizer."""
    if isinstance(identifier, torch.optim.Optimizer):
        return _Wrapped(identifier)
    if isinstance(identifier, dict):
        return deserialize(identifier)
    return REGISTRY.get(identifier, "compile")


def serialize(optimizer: Optimizer) -> dict[str, Any]:
    """Name and config of a built-in optimizer (for saving a compiled model)."""
    return REGISTRY.serialize(optimizer)


def deserialize(
    config: dict[str, Any], custom_objects: Mapping[str, type] | None = None
) -> Optimizer:
    """Rebuild a built-in optimizer from :func:`serialize`'s output; a learning-rate schedule
    of the user's own class is rebuilt only when ``custom_objects`` names it."""
    arguments = config.get("config") if isinstance(config, dict) else None
    if isinstance(arguments, dict):  # Keras' {"class_name": "Adam", "config": {...}} too
        cls = REGISTRY.lookup(config.get("class_name"), "optimizers.deserialize")
        return cls.from_config(arguments, custom_objects)
    return REGISTRY.deserialize(config)
