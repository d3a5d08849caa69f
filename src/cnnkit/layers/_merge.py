"""Merge layers: combine several tensors into one (residual sums, concatenated branches).

Each takes a list of tensors, ``Add()([a, b])``, and has a lower-case functional form,
``add([a, b])``, as in Keras. Element-wise merges broadcast axes of size 1, as Keras does.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from cnnkit.layers._base import Layer, Shape


class _Merge(Layer):
    """Shared checks of the merge layers: a list of at least ``_minimum`` inputs."""

    _list_inputs = True
    _minimum = 2
    _exactly: int | None = None

    def check_input_shape(self, input_shape: Any) -> None:
        if not isinstance(input_shape, list):
            raise ValueError(
                f"{self._owner()} must be called on a list of tensors, e.g. "
                f"{type(self).__name__}()([a, b]); received one tensor of shape {input_shape}"
            )
        wanted = self._exactly
        if (wanted is not None and len(input_shape) != wanted) or len(input_shape) < self._minimum:
            count = f"exactly {wanted}" if wanted is not None else f"at least {self._minimum}"
            raise ValueError(f"{self._owner()} needs {count} inputs; received {len(input_shape)}")
        self._check_shapes(input_shape)

    def _check_shapes(self, shapes: list[Shape]) -> None:
        _broadcast_shapes(self, shapes)

    def compute_output_shape(self, input_shape: list[Shape]) -> Shape:
        return _broadcast_shapes(self, input_shape)

    def forward(self, inputs: list[torch.Tensor]) -> torch.Tensor:
        self._check_shapes([(None, *x.shape[1:]) for x in inputs])
        return self._merge(inputs)

    def _merge(self, inputs: list[torch.Tensor]) -> torch.Tensor:
        raise NotImplementedError


def _broadcast_shapes(layer: Layer, shapes: list[Shape]) -> Shape:
    """The shape of an element-wise merge: equal axes, or 1 against anything (as Keras)."""
    ranks = {len(shape) for shape in shapes}
    if len(ranks) != 1:
        raise ValueError(
            f"{layer._owner()}: inputs must have the same rank; received shapes "
            + " and ".join(str(tuple(s)) for s in shapes)
        )
    result = list(shapes[0])
    for shape in shapes[1:]:
        for axis, (size, other) in enumerate(zip(result, shape)):
            if size is None or other is None:
                result[axis] = size if other in (None, 1) else other
            elif size == 1 or other == 1 or size == other:
                result[axis] = max(size, other)
            else:
                raise ValueError(
                    f"{layer._owner()}: inputs have incompatible shapes "
                    + " and ".join(str(tuple(s)) for s in shapes)
                    + f" (axis {axis}: {size} vs {other}); element-wise merges need equal sizes "
                    "or 1"
                )
    return tuple(result)


class Add(_Merge):
    """Element-wise sum of the inputs: the shortcut of a residual block, ``Add()([x, y])``."""

    def _merge(self, inputs):
        total = inputs[0]
        for x in inputs[1:]:
            total = total + x
        return total


class Subtract(_Merge):
    """``inputs[0] - inputs[1]`` (exactly two inputs)."""

    _exactly = 2

    def _merge(self, inputs):
        return inputs[0] - inputs[1]


class Multiply(_Merge):
    """Element-wise product of the inputs (e.g. an attention mask times features)."""

    def _merge(self, inputs):
        product = inputs[0]
        for x in inputs[1:]:
            product = product * x
        return product


class Average(_Merge):
    """Element-wise mean of the inputs (an ensemble of branches)."""

    def _merge(self, inputs):
        return torch.stack(torch.broadcast_tensors(*inputs)).mean(0)


class Maximum(_Merge):
    """Element-wise maximum of the inputs."""

    def _merge(self, inputs):
        return torch.stack(torch.broadcast_tensors(*inputs)).amax(0)


class Minimum(_Merge):
    """Element-wise minimum of the inputs."""

    def _merge(self, inputs):
        return torch.stack(torch.broadcast_tensors(*inputs)).amin(0)


class Concatenate(_Merge):
    """Join the inputs along ``axis`` (default the channels): multi-branch blocks.

    Example:
        >>> Concatenate().build_for([(None, 8, 8, 16), (None, 8, 8, 32)])
        (None, 8, 8, 48)
    """

    def __init__(self, axis: int = -1, **kwargs: Any):
        super().__init__(**kwargs)
        if isinstance(axis, bool) or not isinstance(axis, int):
            raise TypeError(f"Concatenate: axis must be an int. Received: axis={axis!r}")
        self.axis = axis

    def _check_shapes(self, shapes):
        self.compute_output_shape(shapes)

    def compute_output_shape(self, input_shape):
        rank = len(input_shape[0])
        if not -rank <= self.axis < rank or self.axis % rank == 0:
            raise ValueError(
                f"{self._owner()}: axis {self.axis} is not a feature axis of inputs of shape "
                f"{tuple(input_shape[0])}"
            )
        axis = self.axis % rank
        for shape in input_shape[1:]:
            if len(shape) != rank or any(
                a != b and None not in (a, b)
                for i, (a, b) in enumerate(zip(input_shape[0], shape))
                if i != axis
            ):
                raise ValueError(
                    f"{self._owner()}: inputs must match on every axis but the concatenation "
                    f"axis ({self.axis}); received shapes "
                    + " and ".join(str(tuple(s)) for s in input_shape)
                )
        sizes = [shape[axis] for shape in input_shape]
        joined = None if None in sizes else sum(sizes)
        return (*input_shape[0][:axis], joined, *input_shape[0][axis + 1 :])

    def _merge(self, inputs):
        return torch.cat(inputs, dim=self.axis)


class Dot(_Merge):
    """Dot product of two inputs along ``axes`` (cosine similarity with ``normalize=True``).

    Inputs of shape (batch, n) give (batch, 1), as in Keras.
    """

    _exactly = 2

    def __init__(self, axes: int | tuple[int, int], normalize: bool = False, **kwargs: Any):
        super().__init__(**kwargs)
        pair = (axes, axes) if isinstance(axes, int) and not isinstance(axes, bool) else axes
        if not (
            isinstance(pair, (tuple, list))
            and len(pair) == 2
            and all(isinstance(a, int) and not isinstance(a, bool) for a in pair)
        ):
            raise TypeError(f"Dot: axes must be an int or a pair of ints. Received: axes={axes!r}")
        self.axes = axes if isinstance(axes, int) else list(pair)
        self._pair = tuple(pair)
        self.normalize = bool(normalize)

    def _axes_for(self, shapes) -> tuple[int, int]:
        axes = []
        for axis, shape in zip(self._pair, shapes):
            if not -len(shape) <= axis < len(shape) or axis % len(shape) == 0:
                raise ValueError(
                    f"{self._owner()}: axes {self.axes} do not fit inputs of shapes "
                    + " and ".join(str(tuple(s)) for s in shapes)
                )
            axes.append(axis % len(shape))
        return axes[0], axes[1]

    def _check_shapes(self, shapes):
        self.compute_output_shape(shapes)

    def compute_output_shape(self, input_shape):
        first, second = input_shape
        a, b = self._axes_for(input_shape)
        if None not in (first[a], second[b]) and first[a] != second[b]:
            raise ValueError(
                f"{self._owner()}: the dot axes must have equal sizes; received shapes "
                f"{tuple(first)} (axis {a}: {first[a]}) and {tuple(second)} (axis {b}: {second[b]})"
            )
        rest = [s for i, s in enumerate(first) if i not in (0, a)]
        rest += [s for i, s in enumerate(second) if i not in (0, b)]
        return (first[0], *(rest or [1]))

    def _merge(self, inputs):
        x, y = inputs
        a, b = self._axes_for([tuple(x.shape), tuple(y.shape)])
        if self.normalize:
            x, y = F.normalize(x, dim=a), F.normalize(y, dim=b)
        x, y = x.movedim(a, -1), y.movedim(b, 1)
        out = torch.bmm(x.reshape(len(x), -1, x.shape[-1]), y.reshape(len(y), y.shape[1], -1))
        shape = (*x.shape[1:-1], *y.shape[2:])
        return out.reshape(len(x), *(shape or (1,)))


def add(inputs: list[Any], **kwargs: Any) -> Any:
    """Functional form of :class:`Add`: ``add([x, y])``."""
    return Add(**kwargs)(inputs)


def subtract(inputs: list[Any], **kwargs: Any) -> Any:
    """Functional form of :class:`Subtract`."""
    return Subtract(**kwargs)(inputs)


def multiply(inputs: list[Any], **kwargs: Any) -> Any:
    """Functional form of :class:`Multiply`."""
    return Multiply(**kwargs)(inputs)


def average(inputs: list[Any], **kwargs: Any) -> Any:
    """Functional form of :class:`Average`."""
    return Average(**kwargs)(inputs)


def maximum(inputs: list[Any], **kwargs: Any) -> Any:
    """Functional form of :class:`Maximum`."""
    return Maximum(**kwargs)(inputs)


def minimum(inputs: list[Any], **kwargs: Any) -> Any:
    """Functional form of :class:`Minimum`."""
    return Minimum(**kwargs)(inputs)


def concatenate(inputs: list[Any], axis: int = -1, **kwargs: Any) -> Any:
    """Functional form of :class:`Concatenate`: ``concatenate([a, b], axis=-1)``."""
    return Concatenate(axis=axis, **kwargs)(inputs)


def dot(
    inputs: list[Any], axes: int | tuple[int, int], normalize: bool = False, **kwargs: Any
) -> Any:
    """Functional form of :class:`Dot`."""
    return Dot(axes=axes, normalize=normalize, **kwargs)(inputs)
