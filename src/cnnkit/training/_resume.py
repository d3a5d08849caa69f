"""Everything a run needs to continue exactly where it stopped: for BackupAndRestore.

The state (epoch, shuffling seed, random number generators, every callback's state) travels
in the model file's metadata as JSON; arrays inside callback states (EarlyStopping's best
weights) and the generators' states travel as tensors beside the weights. One file, written
atomically. :mod:`cnnkit.training._resume_checks` checks a backup before any of it is used.
"""

from __future__ import annotations

import json
import random
from typing import Any

import numpy as np
import torch

from cnnkit.layers._augment_base import RandomImageLayer
from cnnkit.training._run import Position, Run

_TENSOR = "__tensor__"
BACKUP = "backup/"
#: Where the random state at the start of the group of batches being trained is kept
#: (the group is augmented ahead of its steps; see cnnkit._fast._ahead).
GROUP = "backup/group/"


def continuation(
    restored: tuple[dict[str, Any], dict[str, torch.Tensor]],
) -> tuple[Position, int]:
    """(where the fit continues, its shuffling seed) from a restored backup's (state,
    tensors)."""
    state, tensors = restored
    if state["step"] is None:
        return Position(state["epoch"] + 1), state["shuffle_seed"]
    group_states = {  # the random state at the start of the group, as random_states keys it
        BACKUP + key[len(GROUP) :]: value for key, value in tensors.items() if key.startswith(GROUP)
    }
    position = Position(
        state["epoch"], state["step"], state["trackers"], state["group_start"], group_states
    )
    return position, state["shuffle_seed"]


def random_layers(model: Any) -> list[RandomImageLayer]:
    """The model's augmentation layers, in a fixed order (their generators are saved by it)."""
    return [m for m in model.modules() if isinstance(m, RandomImageLayer)]


def random_states(model: Any, prefix: str = BACKUP) -> dict[str, torch.Tensor]:
    """The state of every generator a step draws from: torch's (CPU and each GPU) and the
    own generators of seeded augmentation layers."""
    tensors = {f"{prefix}torch_rng": torch.get_rng_state()}
    if torch.cuda.is_available():
        for index, state in enumerate(torch.cuda.get_rng_state_all()):
            tensors[f"{prefix}cuda_rng/{index}"] = state
    for index, layer in enumerate(random_layers(model)):
        for device, state in layer.generator_states().items():
            tensors[f"{prefix}layer_rng/{index}/{device}"] = state
    return tensors


def set_random_states(model: Any, tensors: dict[str, torch.Tensor], prefix: str = BACKUP) -> None:
    """Put back the generators saved by :func:`random_states` (checked beforehand)."""
    torch.set_rng_state(tensors[f"{prefix}torch_rng"])
    if torch.cuda.is_available():
        for index in range(torch.cuda.device_count()):
            state = tensors.get(f"{prefix}cuda_rng/{index}")
            if state is not None:
                torch.cuda.set_rng_state(state, index)
    for index, layer in enumerate(random_layers(model)):
        head = f"{prefix}layer_rng/{index}/"
        layer.set_generator_states(
            {k[len(head) :]: v for k, v in tensors.items() if k.startswith(head)}
        )


class ModelGenerators:
    """The generators a training step of ``model`` draws from, saved and put back whole (for
    the batches augmented ahead of their steps: cnnkit._fast._ahead)."""

    def __init__(self, model: Any):
        self.model = model

    def save(self) -> dict[str, torch.Tensor]:
        return random_states(self.model)

    def load(self, tensors: dict[str, torch.Tensor]) -> None:
        set_random_states(self.model, tensors)


def capture(
    model: Any, run: Run, epoch: int, mid_epoch: bool
) -> tuple[dict[str, str], dict[str, torch.Tensor]]:
    """(metadata, tensors) describing the run after ``epoch`` (0-based) has ended, or, with
    ``mid_epoch``, after the batch just trained (``run.trained``)."""
    tensors = random_states(model)
    numpy_state = np.random.get_state()
    step, trackers, group_start = None, None, None
    if mid_epoch and run.trained is not None:
        epoch, step = run.trained.epoch, run.trained.step
        trackers = [totals(tracker) for tracker in run.trained.trackers]
        groups = run.trained.groups
        group = groups.current if groups is not None else None  # (first, end, random state)
        if group is not None and group[0] < step < group[1]:  # inside the group: keep its start
            group_start = group[0]
            tensors.update({k.replace(BACKUP, GROUP, 1): v for k, v in group[2].items()})
    callbacks = run.callbacks.callbacks
    state = {
        "epoch": epoch,
        "step": step,
        "trackers": trackers,
        "group_start": group_start,
        "shuffle_seed": run.shuffle_seed,
        "python_rng": _jsonable(random.getstate()),
        "numpy_rng": [numpy_state[0], numpy_state[1].tolist(), *numpy_state[2:]],
        "callbacks": [
            _encode(callback.state_dict(), f"backup/callback/{index}", tensors)
            if hasattr(callback, "state_dict")
            else None
            for index, callback in enumerate(callbacks)
        ],
        "callback_types": [type(callback).__name__ for callback in callbacks],
    }
    return {"training_state": json.dumps(state)}, tensors


def apply(
    model: Any, state: dict[str, Any], tensors: dict[str, torch.Tensor], callbacks: list[Any]
) -> None:
    """Restore the generators and the callbacks' states captured by :func:`capture` (the
    backup was checked by ``_resume_checks.check_backup`` first)."""
    set_random_states(model, tensors)
    random.setstate(_tupled(state["python_rng"]))
    name, keys, *rest = state["numpy_rng"]
    np.random.set_state((name, np.asarray(keys, dtype=np.uint32), *rest))
    for callback, saved in zip(callbacks, state["callbacks"]):
        if saved is not None and hasattr(callback, "load_state_dict"):
            callback.load_state_dict(decode(saved, tensors))


def restore_totals(trackers: list[Any], saved: list[dict[str, float]]) -> None:
    """Put back the running totals of the loss and metric trackers of a backed-up epoch."""
    for tracker, saved_totals in zip(trackers, saved):
        if set(saved_totals) != set(totals(tracker)):
            raise ValueError(
                f"the backup's running totals of {tracker.name!r} are {sorted(saved_totals)}, "
                f"the metric keeps {sorted(totals(tracker))}; remove the backup to start afresh"
            )
        for name, value in saved_totals.items():
            setattr(tracker, name, value)


def totals(tracker: Any) -> dict[str, float]:
    """A metric's running totals (its private number slots) as floats."""
    return {
        name: float(value)
        for name, value in vars(tracker).items()
        if name.startswith("_") and isinstance(value, (int, float, torch.Tensor))
    }


def _encode(value: Any, key: str, tensors: dict[str, torch.Tensor]) -> Any:
    if isinstance(value, np.ndarray):
        tensors[key] = torch.from_numpy(np.ascontiguousarray(value))
        return {_TENSOR: key}
    if isinstance(value, torch.Tensor):
        tensors[key] = value.detach().cpu().contiguous()
        return {_TENSOR: key}
    if isinstance(value, dict):
        return {k: _encode(v, f"{key}/{k}", tensors) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_encode(v, f"{key}/{i}", tensors) for i, v in enumerate(value)]
    if isinstance(value, np.generic):
        return value.item()
    return value


def tensor_references(value: Any) -> list[Any]:
    """Every ``{"__tensor__": key}`` reference inside a saved callback state: its keys."""
    if isinstance(value, dict):
        if set(value) == {_TENSOR}:
            return [value[_TENSOR]]
        return [key for item in value.values() for key in tensor_references(item)]
    if isinstance(value, list):
        return [key for item in value for key in tensor_references(item)]
    return []


def decode(value: Any, tensors: dict[str, torch.Tensor]) -> Any:
    """A saved callback state with its tensor references replaced by NumPy arrays."""
    if isinstance(value, dict):
        if set(value) == {_TENSOR}:
            return tensors[value[_TENSOR]].numpy()
        return {k: decode(v, tensors) for k, v in value.items()}
    if isinstance(value, list):
        return [decode(v, tensors) for v in value]
    return value


def _jsonable(value: Any) -> Any:
    return [_jsonable(v) for v in value] if isinstance(value, tuple) else value


def _tupled(value: Any) -> Any:
    return tuple(_tupled(v) for v in value) if isinstance(value, list) else value
