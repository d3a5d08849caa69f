"""Process-wide settings: which device models and data go to, and the training precision."""

from __future__ import annotations

import torch

from cnnkit._validation import check_choice

_PRECISIONS = {"float32": None, "bfloat16": torch.bfloat16, "float16": torch.float16}
_state: dict[str, str] = {"device": "auto", "precision": "float32"}


def set_device(device: str | torch.device = "auto") -> None:
    """Choose where models and data live: 'auto' (CUDA, then MPS, then CPU), 'cpu', 'cuda',
    'cuda:1', 'mps'. Asking for a device this machine lacks raises a ValueError now, not later."""
    name = str(device)
    if name != "auto":
        try:
            resolved = torch.device(name)
        except (RuntimeError, TypeError):
            raise ValueError(
                f"set_device: unknown device {name!r}. Accepted: 'auto', 'cpu', 'cuda', 'cuda:N', 'mps'"
            ) from None
        if resolved.type == "cuda" and not torch.cuda.is_available():
            raise ValueError(
                "set_device: CUDA was asked for, but this machine has no CUDA device (or no CUDA build of PyTorch)"
            )
        if (
            resolved.type == "cuda"
            and resolved.index is not None
            and resolved.index >= torch.cuda.device_count()
        ):
            raise ValueError(
                f"set_device: {name!r} does not exist; this machine has {torch.cuda.device_count()} CUDA device(s)"
            )
        if resolved.type == "mps" and not (
            hasattr(torch.backends, "mps") and torch.backends.mps.is_available()
        ):
            raise ValueError(
                "set_device: MPS was asked for, but it is not available on this machine"
            )
        if resolved.type not in ("cpu", "cuda", "mps"):
            raise ValueError(
                f"set_device: unsupported device type {resolved.type!r}; use 'cpu', 'cuda' or 'mps'"
            )
    _state["device"] = name


def get_device() -> torch.device:
    """The device chosen by :func:`set_device`, with 'auto' resolved for this machine."""
    name = _state["device"]
    if name != "auto":
        return torch.device(name)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if hasattr(torch.backends, "mps") and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def set_precision(precision: str) -> None:
    """Train in 'float32' (default), or with autocast in 'bfloat16' or 'float16' (CUDA; a
    gradient scaler is used for float16). On CPU, bfloat16 autocast is allowed."""
    _state["precision"] = check_choice(precision, tuple(_PRECISIONS), "precision", "set_precision")


def get_precision() -> str:
    """The precision chosen by :func:`set_precision`."""
    return _state["precision"]


def autocast_dtype() -> torch.dtype | None:
    """The autocast dtype for the current precision, or None for plain float32."""
    return _PRECISIONS[_state["precision"]]
