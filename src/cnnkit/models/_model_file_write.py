"""Writing the model file: architecture, weights, compile settings and optimizer state in one
safetensors file, written atomically (``models/_model_file.py`` reads it back)."""

from __future__ import annotations

import json
import os
import warnings
from typing import Any

import torch
from safetensors.torch import save as safetensors_bytes

from cnnkit import losses, metrics, optimizers
from cnnkit._files import atomic_write_bytes
from cnnkit.models._functional_config import layer_entry

MODEL_FORMAT, WEIGHTS_FORMAT, FORMAT_VERSION = "cnnkit.model", "cnnkit.weights", "1"
_OPTIMIZER_PREFIX = "optimizer/"


def save_model(
    model,
    filepath: str | os.PathLike,
    include_optimizer: bool = True,
    extra: tuple[dict[str, str], dict[str, torch.Tensor]] | None = None,
) -> None:
    """Write the architecture, weights, compile settings and optimizer state to one file.

    ``extra`` adds (metadata, tensors) of the caller's own (BackupAndRestore's training state),
    so that everything lands in the same single atomic write.
    """
    model._require_built("save")
    _check_target(filepath, "save")
    metadata = {
        "format": MODEL_FORMAT,
        "format_version": FORMAT_VERSION,
        "config": json.dumps(_model_config(model)),
    }
    tensors = _weights(model)
    if getattr(model, "compiled", False):
        compile_config = _compile_config(model)
        if compile_config is not None:
            metadata["compile"] = json.dumps(compile_config)
        torch_optimizer = getattr(model.optimizer, "torch_optimizer", None)
        if include_optimizer and torch_optimizer is not None and compile_config is not None:
            state, structure = _flatten_optimizer(torch_optimizer)
            structure["iterations"] = int(getattr(model.optimizer, "iterations", 0))
            tensors.update(state)
            metadata["optimizer"] = json.dumps(structure)
    if extra is not None:
        metadata.update(extra[0])
        tensors.update(extra[1])
    atomic_write_bytes(filepath, safetensors_bytes(tensors, metadata))


def save_weights(model, filepath: str | os.PathLike) -> None:
    """Write only the weights (with the architecture, used to check a later ``load_weights``)."""
    model._require_built("save_weights")
    _check_target(filepath, "save_weights")
    metadata = {"format": WEIGHTS_FORMAT, "format_version": FORMAT_VERSION}
    if not _subclassed(model) and unsaveable_layer(model) is None:
        # a subclassed model's (or a Lambda's) weights load into the model alone
        metadata["config"] = json.dumps(_model_config(model))
    atomic_write_bytes(filepath, safetensors_bytes(_weights(model), metadata))


def _check_target(filepath: Any, what: str) -> None:
    if not isinstance(filepath, (str, os.PathLike)) or not os.fspath(filepath):
        raise TypeError(
            f"{what}: filepath must be a file path (str or os.PathLike). Received: filepath={filepath!r}"
        )
    if os.path.isdir(filepath):
        raise ValueError(
            f"{what}: filepath must name a file, not a folder. Received: filepath={os.fspath(filepath)!r}"
        )


def _weights(model) -> dict[str, torch.Tensor]:
    return {name: tensor.detach().cpu().contiguous() for name, tensor in model.state_dict().items()}


def _subclassed(model) -> bool:
    """A Model subclass with its own call() and no get_config() of its own."""
    if getattr(model, "_graph", True) is not None:
        return False
    for cls in type(model).__mro__:
        if cls.__module__ == "cnnkit.models._model":  # reached Model: no get_config above it
            return True
        if "get_config" in vars(cls):
            return False
    return True


def unsaveable_layer(model) -> Any:
    """The first layer of ``model`` (at any depth) whose class says why it cannot be written
    to a file (``unsaveable``, e.g. Lambda's Python function), else None."""
    for module in model.modules():
        if isinstance(getattr(type(module), "unsaveable", None), str):
            return module
    return None


def refuse_unsaveable(model, what: str) -> None:
    """Raise a ValueError naming the layer that cannot be stored and why, if there is one."""
    layer = unsaveable_layer(model)
    if layer is not None:
        raise ValueError(
            f"{what}: {type(model).__name__} {model.name!r} cannot be saved to a file: its "
            f"{type(layer).__name__} layer {layer.name!r} {layer.unsaveable}"
        )


def _model_config(model) -> dict[str, Any]:
    refuse_unsaveable(model, "save")
    if _subclassed(model):
        raise NotImplementedError(
            f"save: {type(model).__name__} {model.name!r} is a subclassed model (its own "
            "call()), whose architecture cannot be saved without a get_config() giving its "
            "constructor's arguments. Save its weights with model.save_weights(path) and load "
            "them into a new instance with load_weights(path), or build it with "
            "cnnkit.Model(inputs, outputs) or Sequential"
        )
    try:
        config = model.get_config()
        if getattr(model, "_graph", True) is None:  # a subclass with its own get_config()
            config = {
                **layer_entry(model),
                "build_config": {"input_shape": list(model.input_shape)},
            }
        json.dumps(config)
    except (TypeError, ValueError) as error:
        raise ValueError(
            f"save: the model holds something that cannot be saved by name ({error}); "
            "use built-in activations, initializers, regularizers and constraints"
        ) from None
    return config


def _compile_config(model) -> dict[str, Any] | None:
    try:
        config = {
            "optimizer": optimizers.serialize(model.optimizer),
            "loss": losses.serialize(model.loss),
            "metrics": [],
            "jit_compile": model.jit_compile,
        }
    except ValueError as error:
        warnings.warn(
            f"save: the compile settings are not saved ({error}); compile again after loading",
            stacklevel=3,
        )
        return None
    for spec in model._metric_specs:
        if isinstance(spec, str):
            config["metrics"].append(spec)
        elif type(spec).__name__ in metrics.__all__:
            config["metrics"].append(spec.name)
        else:
            warnings.warn(f"save: the custom metric {spec!r} is not saved", stacklevel=3)
    return config


def _flatten_optimizer(
    optimizer: torch.optim.Optimizer,
) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    state_dict = optimizer.state_dict()
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for index, state in state_dict["state"].items():
        for key, value in state.items():
            if isinstance(value, torch.Tensor):
                tensors[f"{_OPTIMIZER_PREFIX}{index}/{key}"] = value.detach().cpu().contiguous()
            else:
                scalars.setdefault(str(index), {})[key] = value
    groups = [
        {k: list(v) if isinstance(v, tuple) else v for k, v in group.items()}
        for group in state_dict["param_groups"]
    ]
    return tensors, {"param_groups": groups, "scalars": scalars}
