"""Input checks for the neighbours module: every bad argument fails here, at the edge, clearly."""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import torch

METRICS = {"l2": "l2", "euclidean": "l2", "l1": "l1", "manhattan": "l1", "cosine": "cosine"}
WEIGHTS = ("uniform", "distance")


def _p(owner: str) -> str:
    """``"KNeighborsClassifier: "`` for an owner, so messages name where the input entered."""
    return f"{owner}: " if owner else ""


_TORCH_OK_INTS = (torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64)


def check_metric(metric: Any, owner: str = "") -> str:
    """Return the canonical metric name ('l2', 'l1' or 'cosine') for a user's spelling."""
    key = metric.lower() if isinstance(metric, str) else metric
    if not isinstance(key, str) or key not in METRICS:
        accepted = ", ".join(repr(m) for m in METRICS)
        raise ValueError(
            f"{_p(owner)}metric must be one of {accepted}. Received: metric={metric!r}"
        )
    return METRICS[key]


def check_weights(weights: Any, owner: str = "") -> str:
    """Return ``weights`` if it is 'uniform' or 'distance', else raise naming both."""
    if weights not in WEIGHTS:
        raise ValueError(
            f"{_p(owner)}weights must be one of 'uniform', 'distance'. Received: weights={weights!r}"
        )
    return weights


def check_n_neighbors(n_neighbors: Any, n_train: int, owner: str = "") -> int:
    """Return ``n_neighbors`` if 1 <= n_neighbors <= n_train, else raise with both numbers."""
    if isinstance(n_neighbors, bool) or not isinstance(n_neighbors, (int, np.integer)):
        raise TypeError(
            f"{_p(owner)}n_neighbors must be an integer. Received: n_neighbors={n_neighbors!r}"
        )
    if not 1 <= n_neighbors <= n_train:
        raise ValueError(
            f"{_p(owner)}n_neighbors must be between 1 and the number of training samples "
            f"({n_train}). Received: n_neighbors={n_neighbors}"
        )
    return int(n_neighbors)


def resolve_device(device: Any, owner: str = "") -> torch.device:
    """Turn 'auto' (CUDA if present, else CPU), a device string or torch.device into a device."""
    if isinstance(device, str) and device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as error:
        raise ValueError(
            f"{_p(owner)}device must be 'auto', 'cpu', 'cuda', 'cuda:N' or a torch.device. "
            f"Received: device={device!r}"
        ) from error
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"{_p(owner)}device={device!r} was requested but CUDA is not available here."
        )
    return resolved


def as_samples(x: Any, name: str = "x", owner: str = "") -> tuple[torch.Tensor, tuple[int, ...]]:
    """Flatten images of any shape to a (n_samples, n_features) tensor, rejecting bad values.

    Accepts NumPy arrays, torch tensors and nested lists; uint8/int/bool/float dtypes. Returns
    the flattened tensor (dtype kept where torch has it, else widened) and the per-sample shape.
    """
    tensor = _to_tensor(x, name, owner)
    if tensor.ndim < 2:
        raise ValueError(
            f"{_p(owner)}{name} must have a leading samples axis, e.g. (n_samples, height, width) or "
            f"(n_samples, n_features). Received: {name} with shape {tuple(tensor.shape)}. Use "
            "x.reshape(-1, 1) for one feature, or x[None] for a single image."
        )
    sample_shape = tuple(tensor.shape[1:])
    if tensor.shape[0] == 0 or math.prod(sample_shape) == 0:
        raise ValueError(
            f"{_p(owner)}{name} is empty: at least one sample with at least one feature is required. "
            f"Received: {name} with shape {tuple(tensor.shape)}"
        )
    if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
        raise ValueError(
            f"{_p(owner)}{name} contains NaN or infinity; k-NN distances need finite values. "
            f"Clean or impute {name} first."
        )
    return tensor.reshape(tensor.shape[0], -1), sample_shape


def _to_tensor(x: Any, name: str, owner: str = "") -> torch.Tensor:
    """Convert a NumPy array, tensor or list to a torch tensor of a supported numeric dtype."""
    if isinstance(x, torch.Tensor):
        tensor = x.detach()
    else:
        try:
            array = np.asarray(x)
        except (TypeError, ValueError) as error:  # ragged nested lists and other oddities
            raise TypeError(
                f"{_p(owner)}{name} must be a NumPy array or tensor of numbers; could not convert "
                f"{type(x).__name__}: {error}"
            ) from None
        if array.dtype.kind not in "biuf":
            raise TypeError(
                f"{_p(owner)}{name} must hold numbers (uint8, int, bool or float). "
                f"Received: {name} with dtype {array.dtype}"
            )
        if array.dtype.kind == "u" and array.dtype != np.uint8:
            array = array.astype(np.int64)
        with warnings.catch_warnings():  # read-only arrays (np.frombuffer) are never written to
            warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
            tensor = torch.from_numpy(np.ascontiguousarray(array))
    if tensor.dtype == torch.bool:
        return tensor.to(torch.uint8)
    if tensor.dtype in (torch.float16, torch.bfloat16):
        return tensor.float()
    if tensor.dtype in _TORCH_OK_INTS or tensor.dtype in (torch.float32, torch.float64):
        return tensor
    raise TypeError(
        f"{_p(owner)}{name} must hold real numbers (uint8, int, bool or float). "
        f"Received: {name} with dtype {tensor.dtype}"
    )


def as_labels(y: Any, n_samples: int, name: str = "y", owner: str = "") -> np.ndarray:
    """Return class labels as a 1-D NumPy array of length ``n_samples``, else raise clearly."""
    if isinstance(y, torch.Tensor):
        y = y.detach().cpu().numpy()
    try:
        labels = np.asarray(y)
    except (TypeError, ValueError) as error:  # ragged nested lists
        raise TypeError(
            f"{_p(owner)}{name} must be a 1-D array of class labels; could not convert {type(y).__name__}: "
            f"{error}"
        ) from None
    if labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels[:, 0]
    if labels.ndim != 1:
        raise ValueError(
            f"{_p(owner)}{name} must be a 1-D array of class labels (one per sample); one-hot labels "
            f"need y.argmax(axis=1). Received: {name} with shape {labels.shape}"
        )
    if labels.shape[0] != n_samples:
        raise ValueError(
            f"{_p(owner)}{name} must have one label per sample: x has {n_samples} samples. "
            f"Received: {name} with {labels.shape[0]} labels"
        )
    if labels.dtype.kind == "f" and not np.isfinite(labels).all():
        raise ValueError(f"{_p(owner)}{name} contains NaN or infinity; labels must be finite.")
    return labels
