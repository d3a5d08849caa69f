"""The model file: architecture as JSON, tensors as safetensors, in one file, checked whole
before anything is built from it (the public names are in cnnkit.saving).

The file is a plain safetensors file (any extension: ``.keras``, ``.h5``, ``.cnnkit``...).
Its header metadata holds the model's JSON description, the compile settings and the
optimizer's non-tensor state; its tensors are the weights (PyTorch layouts, named as in
``model.state_dict()``) and the optimizer's tensors. Loading never unpickles and never
imports anything named in the file: class names are looked up among cnnkit's own layers and
the classes the caller allows (``custom_objects``, ``register_serializable``).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import torch
from safetensors import SafetensorError, safe_open

from cnnkit import losses, optimizers
from cnnkit._file_tensors import (
    Layout,
    check_weights_fit,
    file_layouts,
    layouts_of,
    nbytes,
    weights_only,
)
from cnnkit._model_header import (
    check_compile_config,
    check_model_config,
    check_optimizer_structure,
    check_tensor_names,
    load_section,
    refuse,
)
from cnnkit._optimizer_file import checked_state_dict
from cnnkit.models._from_config import build_model
from cnnkit.models._model_file_write import FORMAT_VERSION, MODEL_FORMAT, WEIGHTS_FORMAT
from cnnkit.models._model_file_write import save_model as save_model
from cnnkit.models._model_file_write import save_weights as save_weights
from cnnkit.models._registry import check_custom_objects, known_names

# Buffers a file does not hold (Normalization's given mean and variance, spread over the
# input's shape) may take this much beyond twice the file's size.
_UNSAVED_BUFFER_BYTES = 8 * 2**20


# ---------------------------------------------------------------------- loading
def load_model(
    filepath: str | os.PathLike,
    custom_objects: dict[str, type] | None = None,
    compile: bool = True,  # noqa: A002 - Keras' name
    safe_mode: bool = True,
):
    """Rebuild a model saved by ``model.save``: architecture, weights and, if it was compiled,
    the optimizer with its state, so training resumes where it stopped.

    Args:
        filepath: the file ``model.save`` wrote.
        custom_objects: your own layer classes by name, e.g. ``{"Twice": Twice}`` (or register
            them with ``@cnnkit.saving.register_serializable()``); no other class is loaded.
        compile: also restore the optimizer, loss and metrics.
        safe_mode: accepted for Keras' signature; loading never runs code from the file.
    """
    objects = check_custom_objects(custom_objects, "load_model")
    metadata, tensors = _read(filepath, (MODEL_FORMAT,), objects)
    model = build_model(_json(metadata, "config", filepath), objects)
    _load_state(model, tensors, filepath)
    if compile and "compile" in metadata:
        settings = _json(metadata, "compile", filepath)
        try:
            model.compile(
                optimizer=optimizers.deserialize(settings["optimizer"], objects),
                loss=losses.deserialize(settings["loss"]),
                metrics=settings.get("metrics", []),
                jit_compile=settings.get("jit_compile", False),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise ValueError(
                f"load_model: {os.fspath(filepath)!r} has invalid compile settings: {error}"
            ) from None
        if "optimizer" in metadata:
            _load_optimizer(model, _json(metadata, "optimizer", filepath), tensors, filepath)
    return model


def restore_into(
    model,
    filepath: str | os.PathLike,
    check: Callable[[dict[str, str], dict[str, torch.Tensor]], None] | None = None,
) -> tuple[dict[str, str], dict[str, torch.Tensor]]:
    """Load weights and optimizer state saved by ``save_model`` into an existing compiled model
    (its optimizer object is kept, so a training step built around it stays valid). Returns
    the file's metadata and tensors for the caller's own sections, which ``check`` (given the
    same) may vet before anything is loaded."""
    objects = _classes_of(model)
    metadata, tensors = _read(filepath, (MODEL_FORMAT,), objects)
    if check is not None:
        check(metadata, tensors)
    saved = build_model(_json(metadata, "config", filepath), objects)
    if saved.get_config()["layers"] != model.get_config()["layers"]:
        raise ValueError(
            f"{os.fspath(filepath)!r} holds a different architecture than this model; "
            "remove the backup to start afresh"
        )
    with_optimizer = "optimizer" in metadata and getattr(model, "compiled", False)
    if with_optimizer:  # checked before the weights change, so a refusal leaves the model as is
        _checked_optimizer_state(model, _json(metadata, "optimizer", filepath), tensors, filepath)
    _load_state(model, tensors, filepath)
    if with_optimizer:
        _load_optimizer(model, _json(metadata, "optimizer", filepath), tensors, filepath)
    return metadata, tensors


def load_weights(model, filepath: str | os.PathLike) -> None:
    """Load weights saved by ``save_weights`` or ``save`` into ``model`` (same architecture)."""
    objects = _classes_of(model)
    metadata, tensors = _read(filepath, (WEIGHTS_FORMAT, MODEL_FORMAT), objects)
    if not model.built:
        if "config" not in metadata:
            raise ValueError(
                f"load_weights: {type(model).__name__} {model.name!r} is not built and "
                f"{os.fspath(filepath)!r} holds no architecture; call model.build(input_shape) "
                "or call the model on a batch first"
            )
        saved = build_model(_json(metadata, "config", filepath), objects)
        model.build(getattr(saved, "_model_input_shape", None) or saved.input_shape)
    _load_state(model, tensors, filepath)


def _classes_of(model) -> dict[str, type]:
    """The classes ``model`` is made of, by name: what a file of its weights may name."""
    return {type(module).__name__: type(module) for module in model.modules()}


def _read(
    filepath: str | os.PathLike, formats: tuple[str, ...], objects: dict[str, type]
) -> tuple[dict[str, str], dict[str, torch.Tensor]]:
    """The file's metadata and tensors, once its header passed every check (schema, tensor
    names, shapes and dtypes against the architecture it declares, sizes against the file)."""
    if not isinstance(filepath, (str, os.PathLike)):
        raise TypeError(
            f"load_model: filepath must be a file path (str or os.PathLike). Received: filepath={filepath!r}"
        )
    path = os.fspath(filepath)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"no model file at {path!r}")
    try:
        with safe_open(path, framework="pt") as reader:
            metadata, layouts = reader.metadata() or {}, file_layouts(reader)
    except (SafetensorError, OSError, ValueError, RuntimeError) as error:
        raise _unreadable(path, error) from None
    _check_header(metadata, layouts, path, formats, objects)
    try:  # every tensor's bytes are in the file, so this allocates at most the file's size
        with safe_open(path, framework="pt") as reader:
            tensors = {key: reader.get_tensor(key) for key in reader.keys()}
    except (SafetensorError, OSError, ValueError, RuntimeError) as error:
        raise _unreadable(path, error) from None
    return metadata, tensors


def _unreadable(path: str, error: Exception) -> ValueError:
    return ValueError(
        f"{path!r} is not a readable cnnkit file (a safetensors file written by model.save or "
        f"save_weights): {error}"
    )


def _check_header(
    metadata: dict[str, str],
    layouts: dict[str, Layout],
    path: str,
    formats: tuple[str, ...],
    objects: dict[str, type],
) -> None:
    """Refuse a header that breaks the schema or declares more than the file holds."""
    if metadata.get("format") not in formats:
        raise ValueError(
            f"{path!r} is a safetensors file but not a cnnkit {' or '.join(formats)} file "
            f"(format={metadata.get('format')!r})"
        )
    if metadata.get("format_version") != FORMAT_VERSION:
        raise refuse(path, "format_version", repr(FORMAT_VERSION), metadata.get("format_version"))
    weights_alone = metadata.get("format") == WEIGHTS_FORMAT and "config" not in metadata
    config = None if weights_alone else load_section(metadata, "config", path)
    if config is not None:
        check_model_config(config, path, known_names(objects))
    if "compile" in metadata:
        check_compile_config(load_section(metadata, "compile", path), path)
    if "optimizer" in metadata:
        check_optimizer_structure(load_section(metadata, "optimizer", path), path)
    check_tensor_names(layouts, path)
    if config is not None:
        _check_architecture(config, layouts, path, objects)


def _check_architecture(
    config: dict[str, Any], layouts: dict[str, Layout], path: str, objects: dict[str, type]
) -> None:
    """Build the declared architecture on the meta device (no memory) and compare its weights
    with the file's tensors, so a small file cannot make cnnkit allocate gigabytes."""
    try:
        shadow = build_model(config, objects, shapes_only=True)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{path!r}: {error}") from None
    except RuntimeError as error:  # e.g. a tensor of more elements than an int64 counts
        raise ValueError(f"{path!r}: its architecture cannot be built ({error})") from None
    check_weights_fit(layouts_of(shadow.state_dict()), weights_only(layouts), path)
    stored = sum(nbytes(shape, dtype) for shape, dtype in weights_only(layouts).values())
    tensors = [*shadow.parameters(), *shadow.buffers()]  # buffers not saved count too
    needed = sum(nbytes(t.shape, t.dtype) for t in tensors)
    allowed = stored + 2 * os.path.getsize(path) + _UNSAVED_BUFFER_BYTES
    if needed > allowed:
        raise ValueError(
            f"{path!r}: its architecture needs {needed} bytes of weights and buffers, more than "
            f"the {stored} bytes of weights the file holds allow"
        )


def _json(metadata: dict[str, str], key: str, filepath: Any) -> Any:
    return load_section(metadata, key, os.fspath(filepath))


def _load_state(model, tensors: dict[str, torch.Tensor], filepath: Any) -> None:
    """Copy the file's weights into ``model`` once names, shapes and dtypes all match."""
    weights = weights_only(tensors)
    check_weights_fit(layouts_of(model.state_dict()), layouts_of(weights), os.fspath(filepath))
    model.load_state_dict(weights)


def _load_optimizer(
    model, structure: dict[str, Any], tensors: dict[str, torch.Tensor], filepath: Any
) -> None:
    """Load the file's optimizer state into the model's optimizer, once it passed every check
    (_optimizer_file: hyper-parameters, state names, shapes, dtypes; flags never from files)."""
    state_dict = _checked_optimizer_state(model, structure, tensors, filepath)
    optimizer = model.optimizer.torch_optimizer  # built by the check if it was not yet
    try:
        optimizer.load_state_dict(state_dict)
    except (KeyError, ValueError, RuntimeError) as error:
        raise ValueError(
            f"{os.fspath(filepath)!r}: the saved optimizer state does not fit this model ({error})"
        ) from None
    model.optimizer.iterations = structure.get("iterations", _steps_taken(state_dict))
    decayed = getattr(model.optimizer, "decay", 0)  # Keras 2's decay: the group's rate is lower
    if getattr(model.optimizer, "learning_rate_schedule", None) is None and not decayed:
        model.optimizer.learning_rate = optimizer.param_groups[0]["lr"]


def _steps_taken(state_dict: dict[str, Any]) -> int:
    """The optimizer steps a file without ``iterations`` (older ones) recorded: any
    parameter's step count, or 0 (SGD without momentum keeps none)."""
    for values in state_dict["state"].values():
        if "step" in values:
            return int(values["step"])
    return 0


def _checked_optimizer_state(
    model, structure: Any, tensors: dict[str, torch.Tensor], filepath: Any
) -> dict[str, Any]:
    """The state_dict for the model's optimizer, from the file, once it passed every check."""
    optimizer = model.optimizer.torch_optimizer or model.optimizer.build(model.parameters())
    path = os.fspath(filepath)
    check_optimizer_structure(structure, path)
    return checked_state_dict(optimizer, structure, tensors, path, device=model._training_device())
