"""glibc's malloc settings for training: keep freed memory for the next step instead of
handing it back to the OS and faulting it in again.

By default glibc returns the top of the heap to the OS once more than twice the largest
recently freed block is free there. A training step allocates and frees the same tens of
megabytes of activations and gradients every time, so each step can fault megabytes of fresh
pages back in: measured on LeNet-5 with 32x32x3 images, 1,800 page faults per step and a fifth
of the epoch's time. Fixed thresholds (blocks under 32 MiB from the heap, trimming only above
256 MiB free) remove that, at the price of keeping up to 256 MiB of freed memory in the process.
The plain path is glibc's own behaviour: nothing set (``CNNKIT_FAST=0`` or without ``malloc``).
"""

from __future__ import annotations

import ctypes
import os
import sys

from cnnkit import _fast

MMAP_THRESHOLD = 32 * 2**20  # glibc's own ceiling for its dynamic threshold on 64-bit
TRIM_THRESHOLD = 256 * 2**20
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # mallopt parameters, from glibc's <malloc.h>
_USER_SETTINGS = ("MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TOP_PAD_")
_state = {"applied": False}


def user_chose_allocator() -> bool:
    """True when the environment already configures malloc (tunables, glibc's variables or a
    preloaded allocator such as jemalloc or tcmalloc): then cnnkit leaves it alone."""
    if "glibc.malloc." in os.environ.get("GLIBC_TUNABLES", ""):
        return True
    if any(name in os.environ for name in _USER_SETTINGS):
        return True
    preload = os.environ.get("LD_PRELOAD", "")
    return "malloc" in preload or "jemalloc" in preload


def apply() -> bool:
    """Set the thresholds once per process (glibc on Linux only); True if they are in effect."""
    if _state["applied"]:
        return True
    if not _fast.enabled("malloc"):
        return False
    if not sys.platform.startswith("linux") or user_chose_allocator():
        return False
    try:
        libc = ctypes.CDLL(None)
    except OSError:
        return False
    if not hasattr(libc, "gnu_get_libc_version") or not hasattr(libc, "mallopt"):
        return False  # not glibc (musl's mallopt does nothing)
    mallopt = libc.mallopt
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    if mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD) and mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD):
        _state["applied"] = True
    return _state["applied"]


def applied() -> bool:
    """Whether :func:`apply` has set the thresholds in this process."""
    return _state["applied"]
