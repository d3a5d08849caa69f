"""CNN arithmetic from the lecture: output sizes, 'same' padding splits and parameter counts."""

from __future__ import annotations

import math

__all__ = ["conv_output_size", "pool_output_size", "same_padding", "conv_params"]


def same_padding(
    input_size: int, kernel: int, stride: int = 1, dilation: int = 1
) -> tuple[int, int]:
    """Return the (before, after) zero padding Keras/TensorFlow use for ``padding='same'``.

    The output has ``ceil(input_size / stride)`` elements; when the total padding is odd the
    extra pixel goes after (bottom/right), which ``torch.nn.Conv2d(padding='same')`` cannot do.

    Example:
        >>> same_padding(5, 2, stride=2)
        (0, 1)
    """
    effective = (kernel - 1) * dilation + 1
    output = math.ceil(input_size / stride)
    total = max((output - 1) * stride + effective - input_size, 0)
    return total // 2, total - total // 2


def conv_output_size(
    input_size: int, kernel: int, stride: int = 1, padding: str = "valid", dilation: int = 1
) -> int:
    """Return the spatial output size of a convolution along one axis.

    ``padding`` is 'valid' (no padding), 'same' (output = ceil(input / stride)) or 'full'
    (every partial overlap, as in the lecture's padding animation).
    """
    effective = (kernel - 1) * dilation + 1
    padding = padding.lower()
    if padding == "same":
        return math.ceil(input_size / stride)
    if padding == "valid":
        return (input_size - effective) // stride + 1 if input_size >= effective else 0
    if padding == "full":
        return (input_size + effective - 2) // stride + 1
    raise ValueError(
        f"padding must be one of 'valid', 'same', 'full'. Received: padding={padding!r}"
    )


def pool_output_size(
    input_size: int, pool: int, stride: int | None = None, padding: str = "valid"
) -> int:
    """Return the spatial output size of a pooling window along one axis (stride defaults to pool)."""
    return conv_output_size(input_size, pool, stride or pool, padding)


def conv_params(
    in_channels: int, filters: int, kernel: int | tuple[int, int], use_bias: bool = True
) -> int:
    """Count a Conv2D layer's parameters: filters x (kh x kw x in_channels) weights plus one bias each.

    Example (the lecture's quiz: 3 input maps, two 5x5 filters):
        >>> conv_params(3, 2, 5)
        152
    """
    kh, kw = (kernel, kernel) if isinstance(kernel, int) else kernel
    return filters * kh * kw * in_channels + (filters if use_bias else 0)
