"""Everything a run needs to continue exactly where it stopped: for BackupAndRestore.

The state (epoch, shuffling seed, random number generators, every callback's state) travels
in the model file's metadata as JSON; arrays inside callback states (EarlyStopping's best
weights) travel as tensors beside the weights. One file, written atomically.
"""

from __future__ import annotations

import json
import random
from typing import Any

import numpy as np
import torch

_TENSOR = "__tensor__"


def capture(
    epoch: int,
    shuffle_seed: int,
    callbacks: list[Any],
    position: tuple[int, int, list[Any]] | None = None,
) -> tuple[dict[str, str], dict[str, torch.Tensor]]:
    """(metadata, tensors) describing the run after ``epoch`` (0-based) has ended, or, given
    ``position`` = (epoch, batches done, metric trackers), in the middle of that epoch."""
    tensors: dict[str, torch.Tensor] = {"backup/torch_rng": torch.get_rng_state()}
    if torch.cuda.is_available():
        for index, state in enumerate(torch.cuda.get_rng_state_all()):
            tensors[f"backup/cuda_rng/{index}"] = state
    numpy_state = np.random.get_state()
    step, trackers = None, None
    if position is not None:
        epoch, step, metric_trackers = position
        trackers = [_totals(tracker) for tracker in metric_trackers]
    state = {
        "epoch": epoch,
        "step": step,
        "trackers": trackers,
        "shuffle_seed": shuffle_seed,
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


def apply(state: dict[str, Any], tensors: dict[str, torch.Tensor], callbacks: list[Any]) -> None:
    """Restore the generators and the callbacks' states captured by :func:`capture`."""
    torch.set_rng_state(tensors["backup/torch_rng"])
    cuda = [tensors[k] for k in sorted(tensors) if k.startswith("backup/cuda_rng/")]
    if cuda and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(cuda)
    random.setstate(_tupled(state["python_rng"]))
    name, keys, *rest = state["numpy_rng"]
    np.random.set_state((name, np.asarray(keys, dtype=np.uint32), *rest))
    if [type(c).__name__ for c in callbacks] != state["callback_types"]:
        raise ValueError(
            "BackupAndRestore: the callbacks differ from the backed-up run "
            f"({state['callback_types']} then, {[type(c).__name__ for c in callbacks]} now); "
            "pass the same callbacks to resume, or remove the backup to start afresh"
        )
    for callback, saved in zip(callbacks, state["callbacks"]):
        if saved is not None and hasattr(callback, "load_state_dict"):
            callback.load_state_dict(_decode(saved, tensors))


def restore_totals(trackers: list[Any], saved: list[dict[str, float]]) -> None:
    """Put back the running totals of the loss and metric trackers of a backed-up epoch."""
    for tracker, totals in zip(trackers, saved):
        for name, value in totals.items():
            setattr(tracker, name, value)


def _totals(tracker: Any) -> dict[str, float]:
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


def _decode(value: Any, tensors: dict[str, torch.Tensor]) -> Any:
    if isinstance(value, dict):
        if set(value) == {_TENSOR}:
            return tensors[value[_TENSOR]].numpy()
        return {k: _decode(v, tensors) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v, tensors) for v in value]
    return value


def _jsonable(value: Any) -> Any:
    return [_jsonable(v) for v in value] if isinstance(value, tuple) else value


def _tupled(value: Any) -> Any:
    return tuple(_tupled(v) for v in value) if isinstance(value, list) else value
