"""Symbolic tensors and nodes: what ``cnnkit.Input`` returns, and what calling a layer on one
records, so that ``cnnkit.Model(inputs, outputs)`` can run the graph later.

A :class:`KerasTensor` holds a shape (batch axis ``None``) and a dtype, never numbers. Calling
a layer on one builds the layer for that shape, appends a :class:`Node` to the layer's
``_inbound_nodes`` and returns new symbolic tensors of the inferred shape, as in Keras.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

# The ops by name (``"add"`` -> ``cnnkit.ops.add``), given by cnnkit.ops when it is imported
# (cnnkit's own __init__ imports it): ops build on layers, so layers cannot import them.
OPERATORS: dict[str, Callable[..., Any]] = {}


def _operator(name: str, reflected: bool = False) -> Any:
    """A KerasTensor operator that calls ``cnnkit.ops.<name>`` (operands swapped when
    ``reflected``), recording an op layer in the graph."""

    def method(self: KerasTensor, *other: Any) -> Any:
        call = OPERATORS[name]
        return call(*reversed((self, *other))) if reflected else call(self, *other)

    method.__name__ = f"__{name}__"
    return method


class KerasTensor:
    """A placeholder for a batch of data: shape (batch axis ``None``), dtype and name, plus the
    node that made it. It holds no values; a ``cnnkit.Model`` built from it computes them.

    Example:
        >>> import cnnkit
        >>> cnnkit.Input(shape=(28, 28, 1))
        <KerasTensor shape=(None, 28, 28, 1), dtype=float32, name=input_layer>
    """

    __array_priority__ = 1000  # NumPy defers to our operators, so ``array + x`` is refused too

    def __init__(
        self,
        shape: Sequence[int | None],
        dtype: torch.dtype = torch.float32,
        name: str | None = None,
        node: Node | None = None,
        index: int = 0,
    ):
        self.shape = tuple(shape)
        self.dtype = dtype
        self.name = name
        self.node = node  # the call that produced this tensor (an Input's node has no inputs)
        self.index = index  # which of that call's outputs this is

    @property
    def ndim(self) -> int:
        """Rank, counting the batch axis."""
        return len(self.shape)

    def __repr__(self) -> str:
        dtype = str(self.dtype).removeprefix("torch.")
        return f"<KerasTensor shape={self.shape}, dtype={dtype}, name={self.name}>"

    def _refuse(self, *_: Any, **__: Any) -> Any:
        raise TypeError(
            f"{self!r} is symbolic: it holds no values, so it cannot be computed with or "
            "converted. Build a model with cnnkit.Model(inputs, outputs) and give real data "
            "(NumPy arrays or torch tensors) to its predict, fit, evaluate or call; combine "
            "symbolic tensors with layers (e.g. cnnkit.layers.Add()([a, b]))"
        )

    __array__ = __bool__ = __float__ = __int__ = __len__ = __iter__ = _refuse
    __array_ufunc__ = None  # NumPy hands ``array + x`` to our reflected operators

    # Arithmetic records an op layer (as in Keras): ``x = x + residual`` in functional code
    __add__ = _operator("add")
    __radd__ = _operator("add", reflected=True)
    __sub__ = _operator("subtract")
    __rsub__ = _operator("subtract", reflected=True)
    __mul__ = _operator("multiply")
    __rmul__ = _operator("multiply", reflected=True)
    __truediv__ = _operator("divide")
    __rtruediv__ = _operator("divide", reflected=True)
    __floordiv__ = _operator("floor_divide")
    __rfloordiv__ = _operator("floor_divide", reflected=True)
    __mod__ = _operator("mod")
    __rmod__ = _operator("mod", reflected=True)
    __pow__ = _operator("power")
    __rpow__ = _operator("power", reflected=True)
    __matmul__ = _operator("matmul")
    __rmatmul__ = _operator("matmul", reflected=True)
    __lt__ = _operator("less")
    __le__ = _operator("less_equal")
    __gt__ = _operator("greater")
    __ge__ = _operator("greater_equal")
    __ne__ = _operator("not_equal")
    __and__ = _operator("logical_and")
    __rand__ = _operator("logical_and", reflected=True)
    __or__ = _operator("logical_or")
    __ror__ = _operator("logical_or", reflected=True)
    __getitem__ = _operator("get_item")
    __neg__ = _operator("negative")
    __abs__ = _operator("abs")
    __invert__ = _operator("logical_not")
    __hash__ = object.__hash__  # defining __ne__ must not make symbolic tensors unhashable

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):  # noqa: D105
        symbolic = next(a for a in (*args, *(kwargs or {}).values()) if isinstance(a, cls))
        return symbolic._refuse()


@dataclass(eq=False)
class Node:
    """One call of a layer on symbolic tensors: the graph's edge from ``inputs`` to ``outputs``.

    ``listed``: the layer received a list of tensors (a merge layer, a multi-input model)
    rather than one tensor. ``arguments``: keyword arguments of the call (e.g. ``training``).
    """

    layer: Any
    inputs: list[KerasTensor]
    listed: bool
    outputs: list[KerasTensor] = field(default_factory=list)
    arguments: dict[str, Any] = field(default_factory=dict)

    @property
    def index(self) -> int:
        """This node's position among its layer's calls (Keras' ``node_index``)."""
        return self.layer._inbound_nodes.index(self)

    def run(self, values: list[Any]) -> list[Any]:
        """Call the layer on real tensors in place of ``inputs``; one value per output."""
        result = self.layer(values if self.listed else values[0], **self.arguments)
        return list(result) if len(self.outputs) > 1 else [result]


def symbolic_tensors(value: Any) -> list[KerasTensor] | None:
    """The symbolic tensors ``value`` holds (itself, or the items of a list/tuple/dict), or
    None when it holds none."""
    if isinstance(value, KerasTensor):
        return [value]
    items = value.values() if isinstance(value, dict) else value
    if isinstance(value, (list, tuple, dict)) and any(isinstance(v, KerasTensor) for v in items):
        return list(items)
    return None


def input_tensor(layer: Any, shape: Sequence[int | None], batch_size: int | None) -> KerasTensor:
    """The symbolic tensor an InputLayer stands for, recorded as that layer's one node."""
    node = Node(layer, [], listed=False)
    tensor = KerasTensor((batch_size, *shape), layer.dtype, layer.name, node, 0)
    node.outputs.append(tensor)
    layer._inbound_nodes.append(node)
    return tensor


def call_symbolic(layer: Any, args: tuple, kwargs: dict[str, Any]) -> Any:
    """Record ``layer(*args, **kwargs)`` on symbolic tensors: build the layer for their shapes
    and return symbolic outputs of the inferred shapes (a list when the layer has several)."""
    inputs = symbolic_tensors(args[0])
    owner = layer._owner()
    if inputs is None or len(args) > 1 or any(symbolic_tensors(v) for v in kwargs.values()):
        raise TypeError(
            f"{owner}: symbolic tensors (from cnnkit.Input) can only be passed as the first "
            f"argument, alone or as a list. Received: args={args!r}, kwargs={kwargs!r}"
        )
    strangers = [v for v in inputs if not isinstance(v, KerasTensor)]
    if strangers:
        raise TypeError(
            f"{owner}: a call on symbolic tensors cannot mix in real values; received "
            f"{type(strangers[0]).__name__} next to symbolic tensors. Turn constants into "
            "layers or weights (e.g. a Rescaling layer)"
        )
    listed = not isinstance(args[0], KerasTensor)
    shapes = [t.shape for t in inputs]
    output_shape = layer.build_for(shapes if listed else shapes[0])
    node = Node(layer, inputs, listed, arguments=dict(kwargs))
    several = isinstance(output_shape, list)
    batch = {t.shape[0] for t in inputs}  # a fixed batch size (Input(batch_size=)) carries on
    batch_size = batch.pop() if len(batch) == 1 else None
    for index, shape in enumerate(output_shape if several else [output_shape]):
        name = layer.name if not several else f"{layer.name}_{index}"
        shape = (batch_size, *tuple(shape)[1:])
        node.outputs.append(KerasTensor(shape, _output_dtype(layer, inputs), name, node, index))
    layer._inbound_nodes.append(node)
    return list(node.outputs) if several else node.outputs[0]


def _output_dtype(layer: Any, inputs: list[KerasTensor]) -> torch.dtype:
    dtype = getattr(layer, "dtype", None)
    return dtype if isinstance(dtype, torch.dtype) else inputs[0].dtype
