"""Random tensors with Keras' signatures (``shape, ..., dtype=None, seed=None``), drawn with
torch generators on cnnkit's device."""

from __future__ import annotations

from typing import Any

import torch

from cnnkit.ops._dispatch import default_device, standard_dtype, to_tensor
from cnnkit.random._seed import generator


def _shape(shape: Any, where: str) -> tuple[int, ...]:
    shape = (shape,) if isinstance(shape, int) else shape
    if not isinstance(shape, (list, tuple, torch.Size)) or not all(
        isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in shape
    ):
        raise ValueError(
            f"{where}: shape must be a tuple of non-negative ints. Received: shape={shape!r}"
        )
    return tuple(shape)


def _float(dtype: Any, where: str) -> torch.dtype:
    wanted = torch.float32 if dtype is None else standard_dtype(dtype)
    if not wanted.is_floating_point:
        raise ValueError(f"{where}: dtype must be a float dtype. Received: dtype={dtype!r}")
    return wanted


def normal(
    shape: Any, mean: float = 0.0, stddev: float = 1.0, dtype: Any = None, seed: Any = None
) -> torch.Tensor:
    """Values from a normal distribution of ``mean`` and ``stddev``."""
    device = default_device()
    values = torch.randn(
        _shape(shape, "normal"), generator=generator(seed, "normal", device), device=device
    )
    return (values * stddev + mean).to(_float(dtype, "normal"))


def uniform(
    shape: Any, minval: float = 0.0, maxval: float = 1.0, dtype: Any = None, seed: Any = None
) -> torch.Tensor:
    """Values drawn uniformly from [minval, maxval)."""
    device = default_device()
    values = torch.rand(
        _shape(shape, "uniform"), generator=generator(seed, "uniform", device), device=device
    )
    return (values * (maxval - minval) + minval).to(_float(dtype, "uniform"))


def randint(
    shape: Any, minval: int, maxval: int, dtype: str = "int32", seed: Any = None
) -> torch.Tensor:
    """Integers drawn uniformly from [minval, maxval)."""
    if maxval <= minval:
        raise ValueError(
            f"randint: maxval must exceed minval. Received: minval={minval}, maxval={maxval}"
        )
    device = default_device()
    values = torch.randint(
        int(minval),
        int(maxval),
        _shape(shape, "randint"),
        generator=generator(seed, "randint", device),
        device=device,
    )
    return values.to(standard_dtype(dtype))


def truncated_normal(
    shape: Any, mean: float = 0.0, stddev: float = 1.0, dtype: Any = None, seed: Any = None
) -> torch.Tensor:
    """Normal values, redrawn until within two standard deviations of ``mean``."""
    device = default_device()
    values = torch.empty(_shape(shape, "truncated_normal"), device=device)
    torch.nn.init.trunc_normal_(
        values, 0.0, 1.0, -2.0, 2.0, generator=generator(seed, "truncated_normal", device)
    )
    return (values * stddev + mean).to(_float(dtype, "truncated_normal"))


def dropout(inputs: Any, rate: float, noise_shape: Any = None, seed: Any = None) -> torch.Tensor:
    """``inputs`` with each value zeroed with probability ``rate`` and the rest scaled by
    1 / (1 - rate), so the expected value is unchanged."""
    if not 0 <= rate < 1:
        raise ValueError(f"dropout: rate must be in [0, 1). Received: rate={rate!r}")
    x = to_tensor(inputs)
    shape = (
        tuple(x.shape)
        if noise_shape is None
        else tuple(x.shape[i] if s is None else s for i, s in enumerate(noise_shape))
    )
    keep = (
        torch.rand(shape, generator=generator(seed, "dropout", x.device), device=x.device) >= rate
    )
    return torch.where(keep, x / (1 - rate), torch.zeros((), dtype=x.dtype, device=x.device))


def shuffle(x: Any, axis: int = 0, seed: Any = None) -> torch.Tensor:
    """``x`` with its slices along ``axis`` in a random order."""
    x = to_tensor(x)
    order = torch.randperm(
        x.shape[axis], generator=generator(seed, "shuffle", x.device), device=x.device
    )
    return torch.index_select(x, axis, order)


def categorical(
    logits: Any, num_samples: int, dtype: str = "int32", seed: Any = None
) -> torch.Tensor:
    """``num_samples`` class indices per row of ``logits`` (batch, classes), drawn with
    probabilities softmax(logits)."""
    logits = to_tensor(logits)
    if logits.ndim != 2:
        raise ValueError(
            f"categorical: logits must have shape (batch, classes). Received {tuple(logits.shape)}"
        )
    probabilities = torch.softmax(logits.float(), dim=-1)
    draws = torch.multinomial(
        probabilities,
        num_samples,
        replacement=True,
        generator=generator(seed, "categorical", logits.device),
    )
    return draws.to(standard_dtype(dtype))
