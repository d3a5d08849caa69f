"""What convolution and pooling share: data_format handling and Keras' 'same' padding."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from cnnkit._validation import check_choice
from cnnkit.arithmetic import conv_output_size, same_padding

DATA_FORMATS = ("channels_last", "channels_first")
PADDINGS = ("valid", "same")


def check_data_format(value: object, owner: str) -> str:
    """Validate ``data_format`` ('channels_last' or 'channels_first')."""
    return check_choice(value, "data_format", owner, choices=DATA_FORMATS)


def check_padding(value: object, owner: str) -> str:
    """Validate ``padding`` ('valid' or 'same', any case) and return it lower-cased."""
    return check_choice(value, "padding", owner, choices=PADDINGS)


def to_channels_first(x: torch.Tensor, data_format: str) -> torch.Tensor:
    """View (N, H, W, C) data as (N, C, H, W) without copying (channels-last memory format)."""
    return x.permute(0, 3, 1, 2) if data_format == "channels_last" else x


def check_spatial_sizes(owner: str, shape: tuple, data_format: str) -> None:
    """Raise a ValueError naming ``owner`` when a known height or width of ``shape`` is < 1."""
    for axis, size in zip(("height", "width"), spatial_dims(shape, data_format)):
        if size is not None and size < 1:
            raise ValueError(
                f"{owner}: the input {axis} must be at least 1; received shape {shape}"
            )


def from_channels_first(y: torch.Tensor, data_format: str) -> torch.Tensor:
    """View an (N, C, H, W) tensor in the layer's data format (a view, no copy)."""
    return y.permute(0, 2, 3, 1) if data_format == "channels_last" else y


def spatial_dims(shape: tuple, data_format: str) -> tuple[int | None, int | None]:
    """Return (height, width) of a 4-D shape in the given data format."""
    return (shape[1], shape[2]) if data_format == "channels_last" else (shape[2], shape[3])


def channels_of(shape: tuple, data_format: str) -> int | None:
    """Return the channel count of a 4-D shape in the given data format."""
    return shape[3] if data_format == "channels_last" else shape[1]


def make_shape(batch, height, width, channels, data_format: str) -> tuple:
    """Assemble a 4-D shape in the given data format."""
    if data_format == "channels_last":
        return (batch, height, width, channels)
    return (batch, channels, height, width)


def output_hw(
    height: int | None,
    width: int | None,
    kernel: tuple[int, int],
    strides: tuple[int, int],
    padding: str,
    dilation: tuple[int, int] = (1, 1),
) -> tuple[int | None, int | None]:
    """Output (height, width) of a window of ``kernel`` sliding with ``strides``."""
    return tuple(  # type: ignore[return-value]
        None if size is None else conv_output_size(size, k, s, padding, d)
        for size, k, s, d in zip((height, width), kernel, strides, dilation)
    )


class SamePadding:
    """Keras/TensorFlow 'same' padding for one input size, split into a symmetric part that the
    PyTorch kernel can take and an extra bottom/right pixel that needs ``F.pad``."""

    def __init__(self, height: int, width: int, kernel, strides, dilation=(1, 1)):
        (top, bottom), (left, right) = (
            same_padding(height, kernel[0], strides[0], dilation[0]),
            same_padding(width, kernel[1], strides[1], dilation[1]),
        )
        self.symmetric = top == bottom and left == right
        self.kernel_padding = (top, left) if self.symmetric else (0, 0)
        self.explicit = None if self.symmetric else (left, right, top, bottom)

    def pad(self, x: torch.Tensor, value: float = 0.0) -> torch.Tensor:
        """Apply the asymmetric part (if any) to an (N, C, H, W) tensor."""
        return x if self.explicit is None else F.pad(x, self.explicit, value=value)
