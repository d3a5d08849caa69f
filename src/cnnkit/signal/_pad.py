"""Padding an image's spatial axes: the borders that 'same' and 'full' correlation need."""

from __future__ import annotations

import numbers

import torch

from cnnkit.signal._arrays import Array, ArrayLike, as_array, prefix, to_tensor

PAD_MODES = ("zero", "symmetric", "reflect", "edge", "wrap")

Pads = tuple[tuple[int, int], tuple[int, int]]


def pad(
    image: ArrayLike,
    pad: int | tuple[int, int] | tuple[tuple[int, int], tuple[int, int]],
    mode: str = "zero",
) -> Array:
    """Pad the rows and columns of an image so a filter can slide over its border.

    The modes follow ``numpy.pad``: 'zero' adds zeros, 'symmetric' mirrors including the edge
    pixel (SciPy's ``boundary='symm'``), 'reflect' mirrors without repeating it, 'edge' repeats
    the edge pixel and 'wrap' tiles the image periodically (SciPy's ``boundary='wrap'``).
    Pads larger than the image keep mirroring or tiling, as NumPy does.

    Args:
        image: array or tensor of shape (h, w), (h, w, c) or a batch (b, h, w, c).
        pad: ``p`` for every side, ``(before, after)`` for both axes, or
            ``((top, bottom), (left, right))``.
        mode: one of 'zero', 'symmetric', 'reflect', 'edge', 'wrap'.

    Returns:
        The padded image, same kind (NumPy or tensor), dtype and device as ``image``; shape
        (h + top + bottom, w + left + right, ...).

    Example:
        >>> import numpy as np
        >>> pad(np.array([[1, 2], [3, 4]]), 1, mode="edge")[0]
        array([1, 1, 2, 2])
    """
    array = as_array(image, "image", allow_bool=True, owner="pad")
    if array.ndim not in (2, 3, 4):
        raise ValueError(
            "pad: image must have shape (h, w), (h, w, c) or (b, h, w, c). "
            f"Received: image.shape={tuple(array.shape)}"
        )
    pads = normalize_pad(pad, "pad")
    check_pad_mode(mode, "pad")
    tensor, back = to_tensor(array)
    rows = 1 if array.ndim == 4 else 0
    return back(pad_axes(tensor, rows, pads, mode, owner="pad"))


def check_pad_mode(mode: str, owner: str = "") -> None:
    """Raise a ValueError naming the accepted modes unless ``mode`` is one of them."""
    if mode not in PAD_MODES:
        accepted = ", ".join(repr(m) for m in PAD_MODES)
        raise ValueError(f"{prefix(owner)}mode must be one of {accepted}. Received: mode={mode!r}")


def _is_count(value: object) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool) and value >= 0


def normalize_pad(pad: object, owner: str = "") -> Pads:
    """Return ``pad`` as ((top, bottom), (left, right)), from an int, a pair or two pairs."""
    message = (
        f"{prefix(owner)}pad must be a non-negative int, a (before, after) pair or ((top, bottom), (left, right))."
        f" Received: pad={pad!r}"
    )
    if _is_count(pad):
        return ((int(pad), int(pad)),) * 2
    if not isinstance(pad, (tuple, list)) or len(pad) != 2:
        raise ValueError(message)
    if all(_is_count(p) for p in pad):
        return ((int(pad[0]), int(pad[1])),) * 2
    pairs = [p for p in pad if isinstance(p, (tuple, list)) and len(p) == 2]
    if len(pairs) != 2 or not all(_is_count(p) for pair in pairs for p in pair):
        raise ValueError(message)
    return (int(pairs[0][0]), int(pairs[0][1])), (int(pairs[1][0]), int(pairs[1][1]))


def _source_index(size: int, before: int, after: int, mode: str, device: torch.device):
    """Return, for each padded position along an axis, the index of the pixel it copies."""
    i = torch.arange(-before, size + after, device=device)
    if mode == "wrap":
        return i.remainder(size)
    if mode == "edge":
        return i.clamp(0, size - 1)
    if mode == "symmetric":
        j = i.remainder(2 * size)
        return torch.where(j < size, j, 2 * size - 1 - j)
    if size == 1:  # 'reflect' of a single pixel repeats it, as numpy.pad does
        return torch.zeros_like(i)
    j = i.remainder(2 * size - 2)
    return torch.where(j < size, j, 2 * size - 2 - j)


def pad_axes(
    x: torch.Tensor, rows_axis: int, pads: Pads, mode: str, value: complex = 0, owner: str = ""
) -> torch.Tensor:
    """Pad axes ``rows_axis`` and ``rows_axis + 1`` of a tensor; 'zero' mode fills with ``value``.

    Args:
        x: tensor with the spatial axes at ``rows_axis`` and ``rows_axis + 1``.
        rows_axis: the axis of image rows; columns follow it.
        pads: ((top, bottom), (left, right)), non-negative.
        mode: one of PAD_MODES.
        value: the constant of 'zero' mode (SciPy's ``fillvalue``).
        owner: the public function, named at the start of error messages.
    """
    axes = (rows_axis, rows_axis + 1)
    if mode == "zero":
        shape = list(x.shape)
        for axis, (before, after) in zip(axes, pads, strict=True):
            shape[axis] += before + after
        out = x.new_full(shape, value)
        index = [slice(None)] * x.ndim
        for axis, (before, _) in zip(axes, pads, strict=True):
            index[axis] = slice(before, before + x.shape[axis])
        out[tuple(index)] = x
        return out
    for axis, (before, after) in zip(axes, pads, strict=True):
        if before or after:
            if x.shape[axis] == 0:
                raise ValueError(
                    f"{prefix(owner)}an empty axis (size 0) can only be padded with mode='zero'. "
                    f"Received: mode={mode!r}, image.shape={tuple(x.shape)}"
                )
            x = x.index_select(axis, _source_index(x.shape[axis], before, after, mode, x.device))
    return x
