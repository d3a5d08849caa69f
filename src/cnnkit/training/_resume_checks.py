"""A backup is checked whole before any of it is used: a damaged or edited file is refused
with a ValueError that names it and says how to start over, never a KeyError deep in fit."""

from __future__ import annotations

import json
import math
import os
import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

from cnnkit import metrics as metrics_module
from cnnkit.training import _resume

STATE_KEYS = (
    "epoch",
    "step",
    "trackers",
    "group_start",
    "shuffle_seed",
    "python_rng",
    "numpy_rng",
    "callbacks",
    "callback_types",
)
CPU_RNG_BYTES = int(torch.get_rng_state().numel())  # the Mersenne Twister's state, 5056 bytes
CUDA_RNG_BYTES = 16  # a GPU generator's seed and offset, two 64-bit integers
_MT_WORDS = 624  # NumPy's and Python's Mersenne Twister keys


@dataclass(frozen=True)
class ResumeContext:
    """What the running fit allows a backup to hold."""

    model: Any
    epochs: int
    steps: int
    group_size: int
    callbacks: list[Any]


def refusal(path: Any, detail: str) -> ValueError:
    """The error for a backup that cannot be used, saying how to start over."""
    return ValueError(
        f"cannot resume from {os.fspath(path)!r}: {detail}. The backup is damaged, was edited "
        "or belongs to another run; remove it to start afresh (cnnkit train: --overwrite)"
    )


def check_backup(
    path: Any, metadata: dict[str, str], tensors: dict[str, torch.Tensor], context: ResumeContext
) -> dict[str, Any]:
    """The backup's training state, after checking it and its ``backup/`` tensors."""
    if "training_state" not in metadata:
        raise refusal(path, "it is a model file without training state")
    try:
        state = json.loads(metadata["training_state"])
    except (json.JSONDecodeError, RecursionError) as error:
        raise refusal(path, f"its training_state is not valid JSON ({error})") from None
    if not isinstance(state, dict) or set(state) != set(STATE_KEYS):
        got = sorted(state) if isinstance(state, dict) else type(state).__name__
        raise refusal(path, f"its training_state must hold exactly {list(STATE_KEYS)}; got {got}")
    problem = (
        _position_problem(state, context)
        or _generator_problem(state)
        or _callback_problem(state, context)
        or _tensor_problem(state, tensors, context)
    )
    if problem:
        raise refusal(path, problem)
    return state


def _int_in(value: Any, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _position_problem(state: dict[str, Any], context: ResumeContext) -> str | None:
    epoch, step, group_start = state["epoch"], state["step"], state["group_start"]
    if not _int_in(epoch, 0, context.epochs):
        return f"epoch must be an int in [0, {context.epochs}] (epochs of this fit); got {epoch!r}"
    if not _int_in(state["shuffle_seed"], 0, 2**62):
        return f"shuffle_seed must be an int in [0, 2**62]; got {state['shuffle_seed']!r}"
    if step is None:
        if state["trackers"] is not None or group_start is not None:
            return "an end-of-epoch backup (step null) must have trackers and group_start null"
        return None
    if not _int_in(step, 1, context.steps):
        return (
            f"step must be null or an int in [1, {context.steps}] (batches per epoch); got {step!r}"
        )
    lowest = max(0, step - context.group_size + 1)
    if group_start is not None and not _int_in(group_start, lowest, step - 1):
        return f"group_start must be null or an int in [{lowest}, {step - 1}]; got {group_start!r}"
    return _trackers_problem(state["trackers"], context)


def _trackers_problem(trackers: Any, context: ResumeContext) -> str | None:
    specs = getattr(context.model, "_metric_specs", [])
    expected = [_resume.totals(metrics_module.Mean())]
    expected += [
        _resume.totals(metrics_module.Mean()) if isinstance(s, str) else _resume.totals(s)
        for s in specs
    ]
    if not isinstance(trackers, list) or len(trackers) != len(expected):
        return f"trackers must be a list of {len(expected)} running totals (loss and metrics)"
    for saved, names in zip(trackers, expected):
        if not isinstance(saved, dict) or set(saved) != set(names):
            return f"each tracker must hold exactly {sorted(names)}; got {saved!r:.200}"
        if not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
            for v in saved.values()
        ):
            return f"tracker totals must be finite numbers; got {saved!r:.200}"
    return None


def _generator_problem(state: dict[str, Any]) -> str | None:
    python_rng = state["python_rng"]
    try:
        if not (isinstance(python_rng, list) and len(python_rng) == 3):
            raise TypeError("not a list of 3 items")
        if not (
            isinstance(python_rng[1], list)
            and all(isinstance(v, int) and not isinstance(v, bool) for v in python_rng[1])
        ):
            raise TypeError("its key is not a list of ints")
        random.Random().setstate(_resume._tupled(python_rng))
    except (TypeError, ValueError, OverflowError) as error:
        return f"python_rng is not a state of Python's random module ({error})"
    numpy_rng = state["numpy_rng"]
    if not (
        isinstance(numpy_rng, list)
        and len(numpy_rng) == 5
        and numpy_rng[0] == "MT19937"
        and isinstance(numpy_rng[1], list)
        and len(numpy_rng[1]) == _MT_WORDS
        and all(_int_in(v, 0, 2**32 - 1) for v in numpy_rng[1])
        and _int_in(numpy_rng[2], 0, _MT_WORDS)
        and _int_in(numpy_rng[3], 0, 1)
        and isinstance(numpy_rng[4], (int, float))
        and not isinstance(numpy_rng[4], bool)
    ):
        return (
            "numpy_rng must be ['MT19937', 624 ints in [0, 2**32), position in [0, 624], "
            "has_gauss 0 or 1, cached gaussian]"
        )
    return None


def _callback_problem(state: dict[str, Any], context: ResumeContext) -> str | None:
    types, saved = state["callback_types"], state["callbacks"]
    now = [type(c).__name__ for c in context.callbacks]
    if not (isinstance(types, list) and all(isinstance(t, str) for t in types)):
        return "callback_types must be a list of class names"
    if types != now:
        return (
            f"the callbacks differ from the backed-up run ({types} then, {now} now); "
            "pass the same callbacks to resume"
        )
    if not isinstance(saved, list) or len(saved) != len(now):
        return f"callbacks must be a list of {len(now)} states"
    for callback, entry in zip(context.callbacks, saved):
        if entry is not None and not (isinstance(entry, dict) and hasattr(callback, "state_dict")):
            return f"the state of {type(callback).__name__} must be an object or null"
    return None


def _tensor_problem(
    state: dict[str, Any], tensors: dict[str, torch.Tensor], context: ResumeContext
) -> str | None:
    present = {key for key in tensors if key.startswith(_resume.BACKUP)}
    referenced = [key for entry in state["callbacks"] for key in _resume.tensor_references(entry)]
    for key in referenced:
        if not (isinstance(key, str) and key.startswith("backup/callback/") and key in present):
            return f"a callback state refers to a missing tensor {key!r:.100}"
    present -= set(referenced)
    group_keys = {key for key in present if key.startswith(_resume.GROUP)}
    if state["group_start"] is None and group_keys:
        return "it holds a group's random state but no group_start"
    problem = _random_state_problem(_resume.BACKUP, present - group_keys, tensors, context)
    if problem is None and state["group_start"] is not None:
        problem = _random_state_problem(_resume.GROUP, group_keys, tensors, context)
    return problem


def _random_state_problem(
    prefix: str, keys: set[str], tensors: dict[str, torch.Tensor], context: ResumeContext
) -> str | None:
    """The generators' states under ``prefix``: torch's, each GPU's, seeded layers'."""
    if f"{prefix}torch_rng" not in keys:
        return f"the tensor {prefix}torch_rng is missing"
    layers = _resume.random_layers(context.model)
    gpus = sorted(
        int(k.rsplit("/", 1)[1]) for k in keys if re.fullmatch(f"{prefix}cuda_rng/\\d+", k)
    )
    if gpus != list(range(len(gpus))):
        return f"the GPU generator states must be numbered 0, 1, ...; got {gpus}"
    for key in sorted(keys):
        name = key[len(prefix) :]
        layer = re.fullmatch(r"layer_rng/(\d+)/(cpu|cuda:\d+|mps(?::\d+)?)", name)
        if name == "torch_rng" or name.startswith("cuda_rng/"):
            size = CPU_RNG_BYTES if name == "torch_rng" else CUDA_RNG_BYTES
        elif layer and int(layer[1]) < len(layers) and layers[int(layer[1])].seed is not None:
            kind = layer[2].split(":")[0]  # an MPS state's length is not checked
            size = {"cpu": CPU_RNG_BYTES, "cuda": CUDA_RNG_BYTES}.get(kind)
        else:
            return f"unexpected tensor {key!r:.100} (not a generator of this model)"
        tensor = tensors[key]
        shape_ok = tensor.ndim == 1 if size is None else tuple(tensor.shape) == (size,)
        if tensor.dtype != torch.uint8 or not shape_ok:
            return (
                f"the generator state {key} must be uint8 of shape ({size or 'bytes'},); "
                f"got {tensor.dtype} of shape {tuple(tensor.shape)}"
            )
        if size == CPU_RNG_BYTES and not _loads_into_a_generator(tensor):
            return f"the generator state {key} is not a state of PyTorch's Mersenne Twister"
    return None


def _loads_into_a_generator(state: torch.Tensor) -> bool:
    try:
        torch.Generator().set_state(state)
    except RuntimeError:
        return False
    return True


def restore_checked(
    model: Any, path: Any, context: ResumeContext, restore_into: Callable[..., Any]
) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    """Check the backup at ``path`` whole, then load its weights, optimizer, generators and
    callback states into the running fit; returns (its training state, its tensors).

    ``restore_into(model, path, check=...)`` reads the model file (the model's own format).
    """
    checked: dict[str, Any] = {}

    def check(metadata: dict[str, str], tensors: dict[str, torch.Tensor]) -> None:
        checked["state"] = check_backup(path, metadata, tensors, context)

    try:
        _, tensors = restore_into(model, path, check=check)
        _resume.apply(model, checked["state"], tensors, context.callbacks)
    except (TypeError, ValueError, KeyError, RuntimeError) as error:
        if str(error).startswith("cannot resume from"):
            raise
        raise refusal(path, str(error)) from None
    return checked["state"], tensors
