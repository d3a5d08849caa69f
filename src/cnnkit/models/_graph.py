"""The graph of a functional model: the nodes between its inputs and outputs, in the order
they run, checked once when the model is made."""

from __future__ import annotations

from typing import Any

import torch

from cnnkit.layers._symbolic import KerasTensor, Node


def _structure(value: Any, what: str, owner: str) -> tuple[list[KerasTensor], Any]:
    """The symbolic tensors of ``value`` (one, a list or a dict) and how to pack them again:
    None for one tensor, a list of keys for a dict, "list" for a list."""
    if isinstance(value, KerasTensor):
        return [value], None
    if isinstance(value, dict) and value:
        keys = list(value)
        tensors = [value[key] for key in keys]
        shape = keys
    elif isinstance(value, (list, tuple)) and value:
        tensors, shape = list(value), "list"
    else:
        raise TypeError(
            f"{owner}: {what} must be a symbolic tensor (from cnnkit.Input or a layer call), "
            f"or a non-empty list or dict of them. Received: {what}={value!r:.200}"
        )
    for item in tensors:
        if not isinstance(item, KerasTensor):
            raise TypeError(
                f"{owner}: every entry of {what} must be a symbolic tensor (from cnnkit.Input "
                f"or a layer call); received {type(item).__name__}: {item!r:.100}"
            )
    return tensors, shape


class Graph:
    """Nodes from ``inputs`` to ``outputs`` in topological order, and the layers they call.

    Raises ValueError for outputs not computed from the inputs, inputs that are not
    ``cnnkit.Input`` tensors, unused inputs and repeated inputs.
    """

    def __init__(self, inputs: Any, outputs: Any, owner: str):
        self.inputs, self.input_structure = _structure(inputs, "inputs", owner)
        self.outputs, self.output_structure = _structure(outputs, "outputs", owner)
        for tensor in self.inputs:
            if tensor.node is None or tensor.node.inputs:
                raise ValueError(
                    f"{owner}: inputs must be tensors made by cnnkit.Input(...); {tensor!r} is "
                    f"the output of layer {tensor.node.layer.name!r}"
                )
        if len({id(t) for t in self.inputs}) != len(self.inputs):
            raise ValueError(f"{owner}: the same input tensor is listed twice in inputs")
        self.nodes = self._ordered_nodes(owner)
        self.layers = self._keras_layer_order()
        self._last_use = self._last_uses()

    def _ordered_nodes(self, owner: str) -> list[Node]:
        """Every node the outputs depend on, each after the nodes it needs (inputs excluded)."""
        given = {id(t) for t in self.inputs}
        order: list[Node] = []
        state: dict[int, str] = {}
        used: set[int] = set()

        def visit(tensor: KerasTensor) -> None:
            if id(tensor) in given:
                used.add(id(tensor))
                return
            node = tensor.node
            if not node.inputs:
                raise ValueError(
                    f"{owner}: the outputs are not connected to the inputs: they need the "
                    f"input {tensor!r}, which is not among inputs "
                    f"{[t.name for t in self.inputs]}"
                )
            mark = state.get(id(node))
            if mark == "done":
                return
            if mark == "open":
                raise ValueError(
                    f"{owner}: the graph has a cycle through layer {node.layer.name!r}"
                )
            state[id(node)] = "open"
            for upstream in node.inputs:
                visit(upstream)
            state[id(node)] = "done"
            order.append(node)

        for tensor in self.outputs:
            visit(tensor)
        unused = [t.name for t in self.inputs if id(t) not in used]
        if unused:
            raise ValueError(
                f"{owner}: inputs {unused} are not connected to the outputs; remove them from "
                "inputs or use them"
            )
        return order

    def _keras_layer_order(self) -> list[Any]:
        """The layers in Keras' order (so ``get_weights`` lists weights as Keras does): deepest
        first, depth being the longest path to an output; ties by first sight in a depth-first
        walk from the outputs."""
        first_seen: dict[int, int] = {}
        walked: list[Node] = []  # every node, input nodes too, each after its parents
        finished: set[int] = set()

        def walk(tensor: KerasTensor) -> None:
            node = tensor.node
            if id(node) in finished:
                return
            first_seen.setdefault(id(node.layer), len(first_seen))
            for upstream in node.inputs:
                walk(upstream)
            finished.add(id(node))
            walked.append(node)

        for tensor in self.outputs:
            walk(tensor)
        node_depth: dict[int, int] = {}
        layer_depth: dict[int, int] = {}
        for node in reversed(walked):
            depth = max(node_depth.get(id(node), 0), layer_depth.get(id(node.layer), 0))
            node_depth[id(node)] = layer_depth[id(node.layer)] = depth
            for upstream in node.inputs:
                node_depth[id(upstream.node)] = max(depth + 1, node_depth.get(id(upstream.node), 0))
        self.all_nodes = walked
        self.linear = _is_linear(walked, node_depth)
        layers = _unique([node.layer for node in walked])
        return sorted(layers, key=lambda layer: (-layer_depth[id(layer)], first_seen[id(layer)]))

    def layer_nodes(self, layer: Any) -> list[Node]:
        """The calls of ``layer`` that belong to this graph, in the order they were made."""
        mine = {id(node) for node in self.all_nodes}
        return [node for node in layer._inbound_nodes if id(node) in mine]

    def _last_uses(self) -> list[list[int]]:
        """For each node, the tensors no later node or output needs (freed after it runs)."""
        keep = {id(t) for t in self.outputs}
        last: dict[int, int] = {}
        for position, node in enumerate(self.nodes):
            for tensor in node.inputs:
                last[id(tensor)] = position
        frees: list[list[int]] = [[] for _ in self.nodes]
        for key, position in last.items():
            if key not in keep:
                frees[position].append(key)
        return frees

    def flat_inputs(self, x: Any, owner: str) -> list[Any]:
        """``x`` (one value, a list, or a dict keyed by input names) as one value per input,
        each checked against its input's shape."""
        count = len(self.inputs)
        names = [t.node.layer.name for t in self.inputs]
        if isinstance(x, dict):
            keys = self.input_structure if isinstance(self.input_structure, list) else names
            missing = [k for k in keys if k not in x]
            if missing or len(x) != count:
                raise ValueError(
                    f"{owner}: a dict of inputs must have the keys {keys}; received {list(x)}"
                )
            values = [x[key] for key in keys]
        elif count == 1:
            single = isinstance(x, (list, tuple)) and len(x) == 1 and hasattr(x[0], "shape")
            values = [x[0] if single else x]
        elif not isinstance(x, (list, tuple)) or len(x) != count:
            raise ValueError(
                f"{owner}: the model has {count} inputs {names}; pass a list of {count} arrays "
                f"or a dict keyed by these names. Received: {_describe(x)}"
            )
        else:
            values = list(x)
        for tensor, name, value in zip(self.inputs, names, values):
            _check_shape(tensor, name, value, owner)
        return values

    def pack_outputs(self, values: list[torch.Tensor]) -> Any:
        """The outputs in the structure the model was made with (one, a list or a dict)."""
        if self.output_structure is None:
            return values[0]
        if self.output_structure == "list":
            return list(values)
        return dict(zip(self.output_structure, values))

    def run(self, values: list[torch.Tensor]) -> list[torch.Tensor]:
        """Run every node in order on ``values`` (one per input); one tensor per output.
        Each intermediate is dropped after its last use, so inference holds few at once."""
        known = {id(t): v for t, v in zip(self.inputs, values)}
        for node, frees in zip(self.nodes, self._last_use):
            results = node.run([known[id(t)] for t in node.inputs])
            for tensor, value in zip(node.outputs, results):
                known[id(tensor)] = value
            for key in frees:
                known.pop(key, None)
        return [known[id(t)] for t in self.outputs]


def _describe(x: Any) -> str:
    """``list of 3`` or ``Tensor of shape (2, 4)``: what a model was given, for messages."""
    if isinstance(x, (list, tuple)):
        return f"{type(x).__name__} of {len(x)}"
    shape = getattr(x, "shape", None)
    return type(x).__name__ + ("" if shape is None else f" of shape {tuple(shape)}")


def _check_shape(tensor: KerasTensor, name: str, value: Any, owner: str) -> None:
    """Raise a ValueError naming input ``name`` when ``value`` cannot fill its shape."""
    shape = getattr(value, "shape", None)
    if shape is None:
        return  # lists of numbers are converted, and checked, by the first layer
    expected = (None, *tensor.shape[1:])
    if len(shape) != len(expected) or any(
        want is not None and int(got) != want for got, want in zip(shape[1:], expected[1:])
    ):
        raise ValueError(
            f"{owner}: input {name!r} expects arrays of shape {expected} (batch axis first); "
            f"received shape {tuple(shape)}"
        )


def _is_linear(nodes: list[Node], depth: dict[int, int]) -> bool:
    """Whether the graph is a chain, as Keras judges it for its summary: one node per depth,
    each called on at most one tensor, and no layer called twice."""
    depths = [depth[id(node)] for node in nodes]
    layers = {id(node.layer) for node in nodes}
    return (
        len(set(depths)) == len(depths)
        and all(len(node.inputs) <= 1 for node in nodes)
        and len(layers) == len(nodes)
    )


def _unique(items: list[Any]) -> list[Any]:
    seen: set[int] = set()
    kept = []
    for item in items:
        if id(item) not in seen:
            seen.add(id(item))
            kept.append(item)
    return kept
