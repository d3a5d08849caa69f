"""Which image/filter shapes go together, and the (b, c, h, w) form the algorithms work in."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from cnnkit.signal._arrays import prefix

_IMAGE_SHAPES = "(h, w), (h, w, c) or (b, h, w, c)"
_KERNEL_SHAPES = "(kh, kw), (kh, kw, c) or (kh, kw, c, n)"


@dataclass(frozen=True)
class Layout:
    """How the user's axes map to (b, c, h, w) images and (n, c, kh, kw) filters."""

    batched: bool  # image is (b, h, w, c)
    channels: bool  # image and kernel have a channel axis
    several: bool  # kernel is (kh, kw, c, n): the output keeps a filter axis

    def to_nchw(self, x: torch.Tensor, w: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return the image as (b, c, h, w) and the filters as (n, c, kh, kw)."""
        if not self.channels:
            return x[None, None], w[None, None]
        x = x.permute(0, 3, 1, 2) if self.batched else x.permute(2, 0, 1)[None]
        w = w.permute(3, 2, 0, 1) if self.several else w.permute(2, 0, 1)[None]
        return x, w

    def from_nchw(self, out: torch.Tensor) -> torch.Tensor:
        """Return a (b, n, h', w') result in the user's layout, e.g. (h', w', n) or (b, h', w')."""
        out = out.permute(0, 2, 3, 1) if self.several else out[:, 0]
        return out if self.batched else out[0]


def _shape(shape: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(int(s) for s in shape)


def layout_of(
    image_shape: tuple[int, ...], kernel_shape: tuple[int, ...], owner: str = ""
) -> Layout:
    """Check that an image and a kernel shape go together and say how they are laid out.

    Args:
        image_shape: (h, w), (h, w, c) or a batch (b, h, w, c).
        kernel_shape: (kh, kw) for a 2-D image; (kh, kw, c) or (kh, kw, c, n) with channels.
        owner: the public function, named at the start of error messages.
    """
    image, kernel = _shape(image_shape), _shape(kernel_shape)
    p = prefix(owner)
    shapes = f"Received: image.shape={image}, kernel.shape={kernel}"
    if len(image) not in (2, 3, 4):
        raise ValueError(f"{p}image must have shape {_IMAGE_SHAPES}. Received: image.shape={image}")
    if len(kernel) not in (2, 3, 4):
        raise ValueError(
            f"{p}kernel must have shape {_KERNEL_SHAPES}. Received: kernel.shape={kernel}"
        )
    if len(image) == 2 and len(kernel) != 2:
        raise ValueError(f"{p}a 2-D image (h, w) needs a 2-D kernel (kh, kw). {shapes}")
    if len(image) > 2 and len(kernel) == 2:
        raise ValueError(
            f"{p}an image with channels needs a kernel (kh, kw, c) or (kh, kw, c, n). {shapes}"
        )
    if len(image) > 2 and image[-1] != kernel[2]:
        raise ValueError(
            f"{p}kernel channels must match image channels: kernel.shape[2] must equal "
            f"image.shape[-1]. {shapes}"
        )
    for name, shape in (("image", image), ("kernel", kernel)):
        if 0 in shape:
            raise ValueError(f"{p}{name} must not be empty. Received: {name}.shape={shape}")
    return Layout(batched=len(image) == 4, channels=len(image) > 2, several=len(kernel) == 4)
