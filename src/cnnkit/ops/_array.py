"""Ops that move, gather or join values without computing new ones (Keras' ``reshape``,
``transpose``, ``concatenate``, ``take``...)."""

from __future__ import annotations

from typing import Any

import torch

from cnnkit.ops._dispatch import axes, check_axis, op, tensors, to_tensor


@op()
def reshape(x: Any, newshape: Any) -> torch.Tensor:
    """``x`` with shape ``newshape`` (one size may be -1; ``None`` is read as -1)."""
    x = to_tensor(x)
    shape = [newshape] if isinstance(newshape, int) else list(newshape)
    shape = [-1 if size is None else size for size in shape]
    try:
        return torch.reshape(x, shape)
    except RuntimeError:
        raise ValueError(
            f"ops.reshape: cannot reshape a tensor of shape {tuple(x.shape)} "
            f"({x.numel()} values) to newshape={newshape!r}"
        ) from None


@op()
def expand_dims(x: Any, axis: Any) -> torch.Tensor:
    """``x`` with a new axis of size 1 at ``axis`` (or at each of several axes)."""
    x = to_tensor(x)
    targets = list(axes(axis)) if isinstance(axis, (list, tuple)) else [axis]
    rank = x.ndim + len(targets)
    check_axis("expand_dims", targets, rank)
    for position in sorted(a % rank for a in targets):
        x = torch.unsqueeze(x, position)
    return x


@op()
def squeeze(x: Any, axis: Any = None) -> torch.Tensor:
    """``x`` without its axes of size 1 (only those in ``axis`` when given)."""
    x = to_tensor(x)
    check_axis("squeeze", axis, x.ndim)
    if axis is None:
        return torch.squeeze(x)
    dims = axes(axis) if isinstance(axis, (list, tuple)) else (axis,)
    for dim in dims:
        if x.shape[dim] != 1:
            raise ValueError(
                f"ops.squeeze: axis {dim} has size {x.shape[dim]}, not 1 "
                f"(shape {tuple(x.shape)}). Received: axis={axis!r}"
            )
    return torch.squeeze(x, dim=dims)


@op()
def transpose(x: Any, axes: Any = None) -> torch.Tensor:
    """``x`` with its axes permuted (reversed when ``axes`` is None)."""
    x = to_tensor(x)
    order = list(reversed(range(x.ndim))) if axes is None else list(axes)
    if sorted(a % max(x.ndim, 1) for a in order) != list(range(x.ndim)):
        raise ValueError(
            f"ops.transpose: axes must be a permutation of the {x.ndim} axes. "
            f"Received: axes={axes!r}"
        )
    return torch.permute(x, order)


@op()
def concatenate(xs: Any, axis: int = 0) -> torch.Tensor:
    """The tensors ``xs`` joined along ``axis``."""
    values = tensors(*xs)
    dtype = values[0].dtype
    for value in values[1:]:
        dtype = torch.promote_types(dtype, value.dtype)
    check_axis("concatenate", axis, values[0].ndim)
    return torch.cat([v.to(dtype) for v in values], dim=axis)


@op()
def stack(x: Any, axis: int = 0) -> torch.Tensor:
    """The tensors ``x`` (all of one shape) stacked along a new axis ``axis``."""
    values = tensors(*x)
    dtype = values[0].dtype
    for value in values[1:]:
        dtype = torch.promote_types(dtype, value.dtype)
    check_axis("stack", axis, values[0].ndim + 1)
    return torch.stack([v.to(dtype) for v in values], dim=axis)


@op()
def split(x: Any, indices_or_sections: Any, axis: int = 0) -> list[torch.Tensor]:
    """``x`` cut along ``axis`` into equal sections (an int) or at the given indices."""
    x = to_tensor(x)
    check_axis("split", axis, x.ndim)
    size = x.shape[axis]
    if isinstance(indices_or_sections, int):
        if indices_or_sections < 1 or size % indices_or_sections:
            raise ValueError(
                f"ops.split: axis {axis} of size {size} cannot be cut into "
                f"indices_or_sections={indices_or_sections} equal parts"
            )
        return list(torch.split(x, size // indices_or_sections, dim=axis))
    bounds = [0, *[min(int(i), size) for i in indices_or_sections], size]
    return [x.narrow(axis, start, max(end - start, 0)) for start, end in zip(bounds, bounds[1:])]


@op()
def tile(x: Any, repeats: Any) -> torch.Tensor:
    """``x`` repeated ``repeats`` times along each axis (NumPy's ``tile``)."""
    x = to_tensor(x)
    repeats = [repeats] if isinstance(repeats, int) else list(repeats)
    return torch.tile(x, repeats)


@op()
def repeat(x: Any, repeats: Any, axis: Any = None) -> torch.Tensor:
    """Each value of ``x`` repeated ``repeats`` times along ``axis`` (flattened for None)."""
    x = to_tensor(x)
    check_axis("repeat", axis, x.ndim)
    if not isinstance(repeats, int):
        repeats = to_tensor(repeats, device=x.device).long()
    if axis is None:
        x, axis = x.reshape(-1), 0
    return torch.repeat_interleave(x, repeats, dim=axis)


@op()
def flip(x: Any, axis: Any = None) -> torch.Tensor:
    """``x`` with the order of values reversed along ``axis`` (every axis for None)."""
    x = to_tensor(x)
    check_axis("flip", axis, x.ndim)
    dims = tuple(range(x.ndim)) if axis is None else axes(axis)
    return torch.flip(x, dims=dims if isinstance(dims, tuple) else (dims,))


@op()
def pad(
    x: Any, pad_width: Any, mode: str = "constant", constant_values: Any = None
) -> torch.Tensor:
    """``x`` padded by ``pad_width`` ((before, after) per axis, or one pair for all) with
    ``constant_values`` (0), a mirror image ("reflect") or the border value ("edge")."""
    x = to_tensor(x)
    if mode not in ("constant", "reflect", "edge"):
        raise ValueError(
            f"ops.pad: mode must be 'constant', 'reflect' or 'edge'. Received: mode={mode!r}"
        )
    if constant_values is not None and mode != "constant":
        raise ValueError("ops.pad: constant_values is only used with mode='constant'")
    widths = [[pad_width, pad_width]] if isinstance(pad_width, int) else list(pad_width)
    widths = [list(w) if isinstance(w, (list, tuple)) else [w, w] for w in widths]
    widths = widths * x.ndim if len(widths) == 1 else widths
    if len(widths) != x.ndim or any(len(w) != 2 or min(w) < 0 for w in widths):
        raise ValueError(
            f"ops.pad: pad_width needs one (before, after) pair of sizes >= 0 per axis "
            f"({x.ndim}). Received: pad_width={pad_width!r}"
        )
    if mode == "constant":
        flat = [int(size) for pair in reversed(widths) for size in pair]
        return torch.nn.functional.pad(x, flat, value=constant_values or 0)
    for axis, (before, after) in enumerate(widths):
        x = torch.index_select(x, axis, _border_index(x.shape[axis], before, after, mode, x.device))
    return x


def _border_index(size: int, before: int, after: int, mode: str, device: Any) -> torch.Tensor:
    """Which index of an axis of ``size`` fills each padded position (NumPy's pad modes)."""
    index = torch.arange(-before, size + after, device=device)
    if mode == "edge" or size == 1:
        return index.clamp(0, size - 1)
    period = 2 * (size - 1)
    index = index.abs() % period
    return torch.where(index >= size, period - index, index)


@op()
def take(x: Any, indices: Any, axis: Any = None) -> torch.Tensor:
    """The values of ``x`` at ``indices`` along ``axis`` (of the flattened ``x`` for None);
    negative indices count from the end."""
    x = to_tensor(x)
    check_axis("take", axis, x.ndim)
    index = to_tensor(indices, device=x.device).long()
    if axis is None:
        x, axis = x.reshape(-1), 0
    axis = axis % x.ndim
    index = torch.where(index < 0, index + x.shape[axis], index)
    taken = torch.index_select(x, axis, index.reshape(-1))
    return taken.reshape(*x.shape[:axis], *index.shape, *x.shape[axis + 1 :])


@op()
def take_along_axis(x: Any, indices: Any, axis: Any = None) -> torch.Tensor:
    """NumPy's ``take_along_axis``: ``x`` gathered by ``indices`` of its own rank."""
    x = to_tensor(x)
    check_axis("take_along_axis", axis, x.ndim)
    index = to_tensor(indices, device=x.device).long()
    if axis is None:
        x, axis = x.reshape(-1), 0
    axis = axis % x.ndim
    index = torch.where(index < 0, index + x.shape[axis], index)
    shape = [b if i == axis else max(a, b) for i, (a, b) in enumerate(zip(x.shape, index.shape))]
    source = [a if i == axis else shape[i] for i, a in enumerate(x.shape)]
    return torch.gather(x.broadcast_to(source), axis, index.broadcast_to(shape))


@op()
def get_item(x: Any, key: Any) -> torch.Tensor:
    """``x[key]`` (what ``tensor[...]`` on a symbolic tensor records)."""
    x = to_tensor(x)
    if isinstance(key, list):
        key = tuple(key)
    return x[key]
