"""SpatialDropout2D and GaussianNoise: regularizers that perturb their inputs during training
only (``fit``, or a call with ``training=True``), and pass them through unchanged in inference
(``predict``, ``evaluate``, ``training=False``)."""

from __future__ import annotations

from typing import Any

import torch

from cnnkit._validation import check_fraction, check_int, check_number
from cnnkit.layers._base import Layer
from cnnkit.layers._spatial import check_data_format


class _SeededNoise(Layer):
    """A layer drawing random numbers in training: from its own ``torch.Generator`` (one per
    device) when given a ``seed``, so equal seeds draw equal noise; else from PyTorch's global
    generator (``cnnkit.utils.set_random_seed`` makes that reproducible)."""

    def _set_seed(self, seed: Any) -> None:
        self.seed = check_int(seed, "seed", type(self).__name__, minimum=0, optional=True)
        self._generators: dict[torch.device, torch.Generator] = {}

    def _training(self, training: bool | None) -> bool:
        """The call's ``training`` argument, else the module's mode (``model.fit`` sets it)."""
        return self.training if training is None else bool(training)

    def _generator(self, device: torch.device) -> torch.Generator | None:
        if self.seed is None:
            return None
        if device not in self._generators:
            self._generators[device] = torch.Generator(device=device).manual_seed(self.seed)
        return self._generators[device]


class SpatialDropout2D(_SeededNoise):
    """Dropout of whole feature maps: in training each channel of each image is zeroed with
    probability ``rate`` (the others scaled by 1 / (1 - rate)), because neighbouring pixels
    of one map are too correlated for pixel-wise Dropout to regularize (Tompson et al., 2014).

    Input and output shape: (batch, height, width, channels) ("channels_last", default) or
    (batch, channels, height, width).

    Example:
        >>> layer = SpatialDropout2D(0.5)
        >>> layer(torch.ones(1, 4, 4, 8), training=False).sum().item()  # unchanged
        128.0
    """

    def __init__(
        self, rate: float, data_format: str | None = None, seed: int | None = None, **kwargs: Any
    ):
        super().__init__(**kwargs)
        owner = type(self).__name__
        self.rate = check_fraction(rate, "rate", owner)
        self.data_format = check_data_format(data_format or "channels_last", owner)
        self._set_seed(seed)

    def check_input_shape(self, input_shape):
        if len(input_shape) != 4:
            layout = (
                "(batch, height, width, channels)"
                if self.data_format == "channels_last"
                else "(batch, channels, height, width)"
            )
            raise ValueError(
                f"{self._owner()} expects inputs of rank 4 {layout}; received shape "
                f"{input_shape} (rank {len(input_shape)})"
            )

    def forward(self, x: torch.Tensor, training: bool | None = None) -> torch.Tensor:
        if x.ndim != 4:
            self.check_input_shape((None, *x.shape[1:]))
        if not self._training(training) or not self.rate:
            return x
        if self.data_format == "channels_last":
            shape = (x.shape[0], 1, 1, x.shape[3])
        else:
            shape = (x.shape[0], x.shape[1], 1, 1)
        draws = torch.rand(shape, generator=self._generator(x.device), device=x.device)
        keep = (draws >= self.rate).to(x.dtype)
        return x * keep / (1.0 - self.rate)

    def extra_repr(self):
        return f"name={self.name!r}, rate={self.rate}, seed={self.seed}"


class GaussianNoise(_SeededNoise):
    """Add zero-mean Gaussian noise of standard deviation ``stddev`` to every input value in
    training: a data-augmentation-like regularizer for real-valued inputs.

    Input and output shapes are equal (any rank).

    Example:
        >>> layer = GaussianNoise(0.1, seed=0)
        >>> layer(torch.zeros(2, 3), training=False).abs().sum().item()  # unchanged
        0.0
    """

    def __init__(self, stddev: float, seed: int | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.stddev = check_number(stddev, "stddev", type(self).__name__, minimum=0, maximum=1)
        self._set_seed(seed)

    def forward(self, x: torch.Tensor, training: bool | None = None) -> torch.Tensor:
        if not self._training(training) or not self.stddev:
            return x
        noise = torch.randn(
            x.shape, generator=self._generator(x.device), device=x.device, dtype=x.dtype
        )
        return x + self.stddev * noise

    def extra_repr(self):
        return f"name={self.name!r}, stddev={self.stddev}, seed={self.seed}"
