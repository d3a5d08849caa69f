"""Weight initializers by Keras name; they fill tensors in Keras' layouts, e.g. (kh, kw, in, out)."""

from __future__ import annotations

import math
from typing import Any

import torch

from cnnkit._registry import Registry
from cnnkit._validation import check_choice, check_int, check_number

__all__ = [
    "Initializer",
    "Zeros",
    "Ones",
    "Constant",
    "RandomNormal",
    "RandomUniform",
    "TruncatedNormal",
    "VarianceScaling",
    "GlorotUniform",
    "GlorotNormal",
    "HeNormal",
    "HeUniform",
    "LecunNormal",
    "LecunUniform",
    "Orthogonal",
    "get",
    "serialize",
    "deserialize",
    "compute_fans",
]

# Standard deviation of a unit normal truncated to [-2, 2]; dividing by it keeps the variance.
_TRUNCATED_STDDEV = 0.87962566103423978


def compute_fans(shape: tuple[int, ...]) -> tuple[int, int]:
    """Return (fan_in, fan_out) for a Keras-layout shape: dense (in, out), conv (kh, kw, in, out)."""
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive_field = math.prod(shape[:-2])
    return shape[-2] * receptive_field, shape[-1] * receptive_field


class Initializer:
    """Base class: ``initializer(shape, dtype)`` returns a new tensor of that Keras-layout shape."""

    def __call__(self, shape: tuple[int, ...], dtype: torch.dtype = torch.float32) -> torch.Tensor:
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        """Return the constructor arguments, for saving a model as JSON."""
        return dict(vars(self))

    def _generator(self) -> torch.Generator | None:
        seed = getattr(self, "seed", None)
        if seed is None:
            return None
        generator = torch.Generator()
        generator.manual_seed(int(seed))
        return generator


class Zeros(Initializer):
    """All zeros (Keras' default bias)."""

    def __call__(self, shape, dtype=torch.float32):
        return torch.zeros(shape, dtype=dtype)


class Ones(Initializer):
    """All ones (BatchNormalization's default scale)."""

    def __call__(self, shape, dtype=torch.float32):
        return torch.ones(shape, dtype=dtype)


class Constant(Initializer):
    """Every element equal to ``value``."""

    def __init__(self, value: float = 0.0):
        self.value = check_number(value, "value", "Constant")

    def __call__(self, shape, dtype=torch.float32):
        return torch.full(shape, self.value, dtype=dtype)


class RandomNormal(Initializer):
    """Normal samples (mean 0, stddev 0.05 by default, as Keras)."""

    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: int | None = None):
        self.mean = check_number(mean, "mean", "RandomNormal")
        self.stddev = check_number(stddev, "stddev", "RandomNormal", minimum=0)
        self.seed = _seed(seed, "RandomNormal")

    def __call__(self, shape, dtype=torch.float32):
        out = torch.empty(shape, dtype=dtype)
        return out.normal_(self.mean, self.stddev, generator=self._generator())


class RandomUniform(Initializer):
    """Uniform samples in [minval, maxval) ([-0.05, 0.05) by default, as Keras)."""

    def __init__(self, minval: float = -0.05, maxval: float = 0.05, seed: int | None = None):
        self.minval = check_number(minval, "minval", "RandomUniform")
        self.maxval = check_number(maxval, "maxval", "RandomUniform", minimum=self.minval)
        self.seed = _seed(seed, "RandomUniform")

    def __call__(self, shape, dtype=torch.float32):
        out = torch.empty(shape, dtype=dtype)
        return out.uniform_(self.minval, self.maxval, generator=self._generator())


class TruncatedNormal(Initializer):
    """Normal samples redrawn beyond two standard deviations."""

    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: int | None = None):
        self.mean = check_number(mean, "mean", "TruncatedNormal")
        self.stddev = check_number(stddev, "stddev", "TruncatedNormal", minimum=0)
        self.seed = _seed(seed, "TruncatedNormal")

    def __call__(self, shape, dtype=torch.float32):
        return _truncated_normal(shape, dtype, self.mean, self.stddev, self._generator())


class VarianceScaling(Initializer):
    """Samples with variance ``scale / n`` where n is fan_in, fan_out or their mean."""

    def __init__(
        self,
        scale: float = 1.0,
        mode: str = "fan_in",
        distribution: str = "truncated_normal",
        seed: int | None = None,
    ):
        self.scale = check_number(
            scale, "scale", type(self).__name__, minimum=0, exclusive_minimum=True
        )
        self.mode = check_choice(
            mode, "mode", "VarianceScaling", choices=("fan_in", "fan_out", "fan_avg")
        )
        self.distribution = check_choice(
            distribution,
            "distribution",
            "VarianceScaling",
            choices=("truncated_normal", "untruncated_normal", "uniform"),
        )
        self.seed = _seed(seed, type(self).__name__)

    def __call__(self, shape, dtype=torch.float32):
        fan_in, fan_out = compute_fans(tuple(shape))
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[self.mode]
        variance = self.scale / max(1.0, n)
        generator = self._generator()
        if self.distribution == "truncated_normal":
            stddev = math.sqrt(variance) / _TRUNCATED_STDDEV
            return _truncated_normal(shape, dtype, 0.0, stddev, generator)
        if self.distribution == "untruncated_normal":
            return torch.empty(shape, dtype=dtype).normal_(
                0.0, math.sqrt(variance), generator=generator
            )
        limit = math.sqrt(3.0 * variance)
        return torch.empty(shape, dtype=dtype).uniform_(-limit, limit, generator=generator)

    def get_config(self):
        return {
            "scale": self.scale,
            "mode": self.mode,
            "distribution": self.distribution,
            "seed": self.seed,
        }


class GlorotUniform(VarianceScaling):
    """Uniform in ±sqrt(6 / (fan_in + fan_out)): Keras' default kernel initializer."""

    def __init__(self, seed: int | None = None):
        super().__init__(1.0, "fan_avg", "uniform", seed)

    def get_config(self):
        return {"seed": self.seed}


class GlorotNormal(VarianceScaling):
    """Truncated normal with stddev sqrt(2 / (fan_in + fan_out))."""

    def __init__(self, seed: int | None = None):
        super().__init__(1.0, "fan_avg", "truncated_normal", seed)

    def get_config(self):
        return {"seed": self.seed}


class HeNormal(VarianceScaling):
    """Truncated normal with stddev sqrt(2 / fan_in), suited to ReLU networks."""

    def __init__(self, seed: int | None = None):
        super().__init__(2.0, "fan_in", "truncated_normal", seed)

    def get_config(self):
        return {"seed": self.seed}


class HeUniform(VarianceScaling):
    """Uniform in ±sqrt(6 / fan_in), suited to ReLU networks."""

    def __init__(self, seed: int | None = None):
        super().__init__(2.0, "fan_in", "uniform", seed)

    def get_config(self):
        return {"seed": self.seed}


class LecunNormal(VarianceScaling):
    """Truncated normal with stddev sqrt(1 / fan_in)."""

    def __init__(self, seed: int | None = None):
        super().__init__(1.0, "fan_in", "truncated_normal", seed)

    def get_config(self):
        return {"seed": self.seed}


class LecunUniform(VarianceScaling):
    """Uniform in ±sqrt(3 / fan_in)."""

    def __init__(self, seed: int | None = None):
        super().__init__(1.0, "fan_in", "uniform", seed)

    def get_config(self):
        return {"seed": self.seed}


class Orthogonal(Initializer):
    """A (scaled) orthogonal matrix over the last axis versus all others."""

    def __init__(self, gain: float = 1.0, seed: int | None = None):
        self.gain = check_number(gain, "gain", "Orthogonal")
        self.seed = _seed(seed, "Orthogonal")

    def __call__(self, shape, dtype=torch.float32):
        rows = math.prod(shape[:-1]) if len(shape) > 1 else 1
        flat = torch.empty(rows, shape[-1], dtype=torch.float64).normal_(
            generator=self._generator()
        )
        q, r = torch.linalg.qr(flat if rows >= shape[-1] else flat.T)
        q = q * torch.sign(torch.diagonal(r))
        q = q if rows >= shape[-1] else q.T
        return (self.gain * q).reshape(shape).to(dtype)


def _seed(seed: Any, owner: str) -> int | None:
    """Return ``seed`` if it is None or an int in torch's seed range, else raise naming it."""
    seed = check_int(seed, "seed", owner, minimum=0, optional=True)
    if seed is not None and seed >= 2**64:
        raise ValueError(f"{owner}: seed must be < 2**64. Received: seed={seed!r}")
    return seed


def _truncated_normal(shape, dtype, mean, stddev, generator) -> torch.Tensor:
    out = torch.empty(shape, dtype=dtype).normal_(generator=generator)
    outside = out.abs() > 2
    while bool(outside.any()):  # redraw, as Keras does, rather than clamp
        out[outside] = torch.empty(int(outside.sum()), dtype=dtype).normal_(generator=generator)
        outside = out.abs() > 2
    return out * stddev + mean


REGISTRY = Registry(
    "initializers",
    "initializer",
    {
        "zeros": Zeros,
        "ones": Ones,
        "constant": Constant,
        "random_normal": RandomNormal,
        "random_uniform": RandomUniform,
        "truncated_normal": TruncatedNormal,
        "variance_scaling": VarianceScaling,
        "glorot_uniform": GlorotUniform,
        "glorot_normal": GlorotNormal,
        "he_normal": HeNormal,
        "he_uniform": HeUniform,
        "lecun_normal": LecunNormal,
        "lecun_uniform": LecunUniform,
        "orthogonal": Orthogonal,
    },
    base=Initializer,
    expected="a name, an Initializer or a callable",
    callables=True,
)


def get(
    identifier: str | Initializer | Any, owner: str | None = None, argument: str = "initializer"
) -> Initializer:
    """Resolve a Keras initializer name, an Initializer or a callable ``(shape, dtype) -> tensor``."""
    return REGISTRY.get(identifier, owner, argument)


def serialize(initializer: Initializer) -> dict[str, Any]:
    """Return ``{"class_name": ..., "config": ...}`` for a built-in initializer (model saving)."""
    return REGISTRY.serialize(initializer)


def deserialize(config: dict[str, Any]) -> Initializer:
    """Rebuild a built-in initializer from :func:`serialize`'s output."""
    return REGISTRY.deserialize(config)
