"""What every random augmentation layer shares: seeds, the training switch, factor checks."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch

from cnnkit._validation import check_int, owner_prefix
from cnnkit.layers._base import Layer
from cnnkit.layers._spatial import check_data_format, spatial_dims

Transformation = dict[str, Any]


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def factor_range(
    value: Any,
    name: str,
    owner: str,
    bounds: tuple[float, float] = (-1.0, 1.0),
    *,
    open_low: bool = False,
) -> tuple[float, float]:
    """Keras' reading of a ``factor``: a number f means (-|f|, |f|) cut at the lower bound,
    a pair (a, b) means (min, max); every number must lie within ``bounds``.

    Example:
        >>> factor_range(0.2, "factor", "RandomRotation")
        (-0.2, 0.2)
    """
    low, high = bounds
    interval = f"({low}, {high}]" if open_low else f"[{low}, {high}]"
    message = (
        f"{owner_prefix(owner)}{name} must be a number or a pair of numbers in {interval}. "
        f"Received: {name}={value!r}"
    )
    if _is_number(value):
        numbers: tuple[float, ...] = (float(value),)
    elif isinstance(value, Sequence) and not isinstance(value, str):
        numbers = tuple(value)
        if len(numbers) != 2 or not all(_is_number(v) for v in numbers):
            raise ValueError(message)
    else:
        raise TypeError(message)
    if any(v > high or v < low or (open_low and v == low) for v in numbers):
        raise ValueError(message)
    if len(numbers) == 1:
        return (max(-abs(numbers[0]), low), abs(numbers[0]))
    lower, upper = sorted(float(v) for v in numbers)
    return (lower, upper)


def check_value_range(value: Any, owner: str) -> tuple[float, float]:
    """Return ``value_range`` as a (low, high) pair of floats with low < high, else raise."""
    if (
        not isinstance(value, Sequence)
        or isinstance(value, str)
        or len(value) != 2
        or not all(_is_number(v) for v in value)
    ):
        raise TypeError(
            f"{owner}: value_range must be a pair of numbers (low, high), e.g. (0, 255). "
            f"Received: value_range={value!r}"
        )
    low, high = float(value[0]), float(value[1])
    if not low < high:
        raise ValueError(
            f"{owner}: value_range must satisfy low < high. Received: value_range={value!r}"
        )
    return (low, high)


class Workspace:
    """Memory a layer keeps between calls for its intermediate results, one flat buffer per
    device and dtype, grown as needed. Never hand it out as (part of) an output: the next
    call overwrites it. Reusing it spares the page faults of fresh memory, which cost as much
    as the work on these small batches. Copies and pickles of the layer start empty."""

    def __init__(self) -> None:
        self._buffers: dict[tuple[torch.device, torch.dtype], torch.Tensor] = {}

    def get(self, numel: int, like: torch.Tensor) -> torch.Tensor:
        """A flat tensor of ``numel`` elements of ``like``'s dtype on its device."""
        key = (like.device, like.dtype)
        buffer = self._buffers.get(key)
        if buffer is None or buffer.numel() < numel:
            buffer = torch.empty(numel, dtype=like.dtype, device=like.device)
            self._buffers[key] = buffer
        return buffer[:numel]

    def __getstate__(self) -> dict:
        return {}

    def __setstate__(self, state: dict) -> None:
        self._buffers = {}


class RandomImageLayer(Layer):
    """Base of the augmentation layers: random only in training mode, the identity otherwise.

    A layer draws one random transformation per image with ``get_random_transformation`` and
    applies it to the whole batch at once with ``transform_images`` (both public, as in Keras,
    so a transformation can be fixed and replayed). With a ``seed`` the layer owns a
    ``torch.Generator`` per device, so equal seeds give equal outputs; without one it draws
    from PyTorch's global generator (``cnnkit.utils.set_random_seed`` makes that reproducible).
    Inputs are batches of images, (batch, height, width, channels) by default.

    Each image is transformed on its own, so ``fit`` runs the layers that open a model on a
    few batches at once, ahead of their training steps (subclasses must keep to that).
    """

    def __init__(self, seed: int | None = None, data_format: str | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        owner = type(self).__name__
        self.seed = check_int(seed, "seed", owner, minimum=0, optional=True)
        self.data_format = check_data_format(data_format or "channels_last", owner)
        self._generators: dict[torch.device, torch.Generator] = {}
        self._workspace = Workspace()

    # ----------------------------------------------------------------- shapes
    def _layout(self) -> str:
        return (
            "(batch, height, width, channels)"
            if self.data_format == "channels_last"
            else "(batch, channels, height, width)"
        )

    def check_input_shape(self, input_shape):
        if len(input_shape) != 4:
            raise ValueError(
                f"{self._owner()} expects batches of images of rank 4 {self._layout()}; received "
                f"shape {tuple(input_shape)} (rank {len(input_shape)}). For one image use x[None]."
            )

    def _height_width(self, x: torch.Tensor) -> tuple[int, int]:
        return spatial_dims(tuple(x.shape), self.data_format)  # type: ignore[return-value]

    # ----------------------------------------------------------------- calling
    def forward(self, x: torch.Tensor, training: bool | None = None) -> torch.Tensor:
        self._expect_rank(x, 4, self._layout())
        training = self.training if training is None else bool(training)
        if not training:
            return self._inference(x)
        return self.transform_images(x, self.get_random_transformation(x))

    def _inference(self, x: torch.Tensor) -> torch.Tensor:
        return x

    def _scratch(self, like: torch.Tensor) -> Callable[[int], torch.Tensor] | None:
        """The layer's reusable memory for intermediates of ``like``'s dtype and device (a
        function of the element count), or None when autograd must track ``like`` (the
        ``out=`` arguments that write into it are not differentiable)."""
        if like.requires_grad and torch.is_grad_enabled():
            return None
        return lambda numel: self._workspace.get(numel, like)

    def get_random_transformation(
        self, data: torch.Tensor, training: bool = True
    ) -> Transformation | None:
        """Draw one random transformation per image of ``data`` (None when not training)."""
        if not training:
            return None
        return self._draw(data)

    def transform_images(
        self, images: torch.Tensor, transformation: Transformation | None, training: bool = True
    ) -> torch.Tensor:
        """Apply ``transformation`` (from ``get_random_transformation``) to the whole batch."""
        if not training or transformation is None:
            return self._inference(images)
        return self._transform(images, transformation)

    def _draw(self, x: torch.Tensor) -> Transformation:
        raise NotImplementedError

    def _transform(self, x: torch.Tensor, transformation: Transformation) -> torch.Tensor:
        raise NotImplementedError

    # ----------------------------------------------------------------- random numbers
    def _generator(self, device: torch.device) -> torch.Generator | None:
        if self.seed is None:
            return None
        if device not in self._generators:
            generator = torch.Generator(device=device)
            generator.manual_seed(self.seed)
            self._generators[device] = generator
        return self._generators[device]

    def generator_states(self) -> dict[str, torch.Tensor]:
        """The state of the layer's own generators by device name ('cpu', 'cuda:0'), for an
        exact resume; empty without a ``seed`` or before the first draw."""
        return {str(device): g.get_state() for device, g in self._generators.items()}

    def set_generator_states(self, states: dict[str, torch.Tensor]) -> None:
        """Continue the streams saved by :meth:`generator_states` (a device not saved starts
        again from ``seed``)."""
        self._generators = {}
        for name, state in states.items():
            device = torch.device(name)
            self._generator(device).set_state(state)

    def _uniform(
        self, shape: tuple[int, ...], like: torch.Tensor, low: float = 0.0, high: float = 1.0
    ) -> torch.Tensor:
        """Uniform draws in [low, high) on ``like``'s device, in float32 (the layer's stream)."""
        u = torch.rand(
            shape, generator=self._generator(like.device), device=like.device, dtype=torch.float32
        )
        return u if (low, high) == (0.0, 1.0) else low + (high - low) * u

    def _normal(self, shape: tuple[int, ...], like: torch.Tensor) -> torch.Tensor:
        """Standard normal draws on ``like``'s device, in float32 (the layer's stream)."""
        return torch.randn(
            shape, generator=self._generator(like.device), device=like.device, dtype=torch.float32
        )

    def extra_repr(self) -> str:
        return f"name={self.name!r}, seed={self.seed}"
