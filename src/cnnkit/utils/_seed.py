"""One call that seeds every random number generator a cnnkit run draws from."""

from __future__ import annotations

import random

import numpy as np
import torch


def set_random_seed(seed: int) -> None:
    """Seed Python's ``random``, NumPy and PyTorch (CPU and every CUDA device) at once.

    Example:
        >>> set_random_seed(42)
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(
            f"set_random_seed: seed must be an int >= 0 and < 2**64. Received: seed={seed!r}"
        )
    if not 0 <= seed < 2**64:  # torch.manual_seed takes at most 64 bits
        raise ValueError(
            f"set_random_seed: seed must be an int >= 0 and < 2**64. Received: seed={seed!r}"
        )
    random.seed(int(seed))
    np.random.seed(int(seed) % 2**32)
    torch.manual_seed(int(seed))  # also seeds every CUDA device
