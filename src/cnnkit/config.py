"""Process-wide settings: which device models and data go to, the training precision, and
whether cnnkit tunes glibc's malloc for training."""

from __future__ import annotations

import os

import torch

from cnnkit._fast import _malloc
from cnnkit._validation import check_choice

_PRECISIONS = {"float32": None, "bfloat16": torch.bfloat16, "float16": torch.float16}
_state: dict[str, str] = {"device": "auto", "precision": "float32"}
_malloc_tuning = {"enabled": os.environ.get("CNNKIT_MALLOC_TUNING", "1") != "0"}


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
    _state["precision"] = check_choice(precision, "precision", "set_precision", choices=_PRECISIONS)


def get_precision() -> str:
    """The precision chosen by :func:`set_precision`."""
    return _state["precision"]


def autocast_dtype() -> torch.dtype | None:
    """The autocast dtype for the current precision, or None for plain float32."""
    return _PRECISIONS[_state["precision"]]


def set_malloc_tuning(enabled: bool) -> None:
    """Let ``fit``/``evaluate``/``predict`` set glibc's malloc thresholds (on by default; the
    environment variable ``CNNKIT_MALLOC_TUNING=0`` turns it off from the start).

    Training allocates and frees the same activations every step; with glibc's default
    thresholds the freed memory often goes back to the OS and is faulted in again next step
    (a fifth of an epoch's time for LeNet-5 on 32x32x3 images). The tuned thresholds keep up to
    256 MiB of freed memory in the process instead. Linux with glibc only; nothing is changed
    when the environment already configures malloc (``GLIBC_TUNABLES``, ``MALLOC_*_``
    variables, a preloaded jemalloc or tcmalloc). Once applied, the setting lasts for the
    process: turning it off afterwards does not restore glibc's defaults.
    """
    if not isinstance(enabled, bool):
        raise TypeError(f"set_malloc_tuning: enabled must be True or False. Received: {enabled!r}")
    _malloc_tuning["enabled"] = enabled


def get_malloc_tuning() -> bool:
    """Whether :func:`set_malloc_tuning` allows cnnkit to tune malloc."""
    return _malloc_tuning["enabled"]


def apply_malloc_tuning() -> bool:
    """Tune malloc now if allowed and possible (``fit``/``evaluate``/``predict`` call this);
    True when the tuned thresholds are in effect in this process."""
    if _malloc_tuning["enabled"]:
        return _malloc.apply()
    return _malloc.applied()
