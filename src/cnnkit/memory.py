"""How much memory training takes: the batch, the activations kept for backward, parameters,
gradients and optimizer state ("the whole batch and the corresponding activations have to be
stored in memory"). An estimate from shapes alone, checked against PyTorch's own accounting."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import torch

from cnnkit import activations as activations_module
from cnnkit._validation import check_choice, check_int

# Optimizer state per trainable scalar: Adam keeps two moments, SGD with momentum one buffer.
OPTIMIZER_SLOTS = {"adam": 2, "adamw": 2, "rmsprop": 1, "sgd": 0, "sgd_momentum": 1, "adagrad": 1}
# Activations whose backward needs their output (the rest need their input).
_SAVES_OUTPUT = {
    activations_module.relu,
    activations_module.tanh,
    activations_module.sigmoid,
    activations_module.softmax,
    activations_module.elu,
    activations_module.selu,
    activations_module.exponential,
}


# Layers whose backward needs their input.
_SAVES_INPUT = {
    "Conv2D",
    "Conv2DTranspose",
    "DepthwiseConv2D",
    "SeparableConv2D",
    "Dense",
    "BatchNormalization",
    "AveragePooling2D",
    "LeakyReLU",
}


@dataclass
class LayerMemory:
    """Bytes one layer adds during a training step, for one batch."""

    name: str
    output: int  # the layer's output tensor
    saved: int  # new tensors kept alive for backward (each tensor counted once, by its first saver)


@dataclass
class MemoryEstimate:
    """Estimated memory of one training step (bytes), from shapes alone.

    ``peak`` is the largest total during forward, backward or the optimizer step; the batch
    itself (``inputs``) is counted separately since the caller already holds it.
    """

    batch_size: int
    inputs: int
    parameters: int
    gradients: int
    optimizer_state: int
    activations: int
    peak: int
    layers: list[LayerMemory] = field(default_factory=list)

    @property
    def total(self) -> int:
        """Parameters plus the batch plus the peak of the step."""
        return self.parameters + self.inputs + self.peak


def training_memory(model: Any, batch_size: int, optimizer: str = "adam") -> MemoryEstimate:
    """Estimate the memory of one training step of ``model`` on a batch of ``batch_size``.

    Args:
        model: a built Sequential or functional model.
        batch_size: images per batch.
        optimizer: 'adam', 'adamw', 'rmsprop', 'sgd', 'sgd_momentum' or 'adagrad'.
    """
    check_int(batch_size, "batch_size", "training_memory", minimum=1)
    optimizer = check_choice(optimizer, "optimizer", "training_memory", choices=OPTIMIZER_SLOTS)
    _check_model(model, "training_memory")
    model._require_built("training_memory")
    element = 4  # float32
    trainable = sum(int(w.numel()) * w.element_size() for w in model.trainable_weights)
    parameters = sum(int(w.numel()) * w.element_size() for w in model.weights)
    graph = model._graph
    inputs = sum(_bytes(t, batch_size, element) for t in graph.inputs)
    steps = _forward_plan(graph, batch_size, element)
    saved = [step.saved for step in steps]
    optimizer_state = trainable * OPTIMIZER_SLOTS[optimizer]
    peak_forward = max(
        (sum(saved[: i + 1]) + step.output + step.waiting for i, step in enumerate(steps)),
        default=0,
    )
    return MemoryEstimate(
        batch_size=batch_size,
        inputs=inputs,
        parameters=parameters,
        gradients=trainable,
        optimizer_state=optimizer_state,
        activations=sum(saved),
        peak=max(peak_forward, _backward_peak(steps, trainable), trainable + optimizer_state),
        layers=_per_layer(model, graph, steps),
    )


def _check_model(model: Any, owner: str) -> None:
    """Raise a TypeError unless ``model`` is a cnnkit Sequential or functional model."""
    if not isinstance(model, torch.nn.Module) or getattr(model, "_graph", False) is False:
        raise TypeError(
            f"{owner}: model must be a cnnkit Sequential or functional model. Received: model "
            f"of type {type(model).__name__}"
        )
    if model._graph is None and getattr(model, "built", False):
        raise TypeError(
            f"{owner}: model must be a cnnkit Sequential or functional model; a subclassed "
            f"model ({type(model).__name__}) has no graph to estimate from"
        )


@dataclass
class _Step:
    """One layer call of the forward pass, in bytes for the whole batch."""

    layer: Any
    output: int  # its new output tensor (0 for a view of its input, e.g. Flatten)
    gradient: int  # the gradient of its output, in backward
    saved: int  # tensors it newly keeps for backward
    inputs: int  # gradients of its inputs (none for the model's inputs)
    waiting: int  # other tensors alive meanwhile: made earlier, used later, not saved
    pending: int  # gradients of other tensors, begun by later calls, not yet passed back
    own: int = 0  # of ``saved``, its own output: freed by its activation's backward


def _bytes(tensor: Any, batch_size: int, element: int) -> int:
    return batch_size * math.prod(tensor.shape[1:]) * element


def _saves(node: Any, index: int, ids: dict, sizes: dict) -> list[tuple[Any, int]]:
    """What one call keeps for backward: (identity of a tensor, its bytes)."""
    layer, kind = node.layer, type(node.layer).__name__
    source = [ids[id(t)] for t in node.inputs]
    out_id, out_size = ids[id(node.outputs[0])], sizes["out"]
    saves: list[tuple[Any, int]] = []
    if kind in _SAVES_INPUT:
        saves.append((source[0], sizes["in"][0]))
    if kind == "SeparableConv2D":  # the depthwise output, input of the pointwise step
        between = layer.depthwise_weight.shape[0] * layer.depthwise_weight.shape[1]
        saves.append((("depthwise", index), out_size // layer.filters * between))
    if kind in ("MaxPooling2D", "GlobalMaxPooling2D"):
        saves += [(source[0], sizes["in"][0]), (("indices", index), out_size * 2)]
    if kind in ("Multiply", "Dot"):
        saves += list(zip(source, sizes["in"]))
    if kind == "Dropout" and layer.rate:
        saves.append((("mask", index), out_size // 4))  # one byte per element
    activation = getattr(layer, "activation", None)
    if activation is not None and activation is not activations_module.linear:
        saves.append(
            (out_id, out_size) if activation in _SAVES_OUTPUT else (("pre", index), out_size)
        )
    if kind in ("ReLU", "Softmax"):
        saves.append((out_id, out_size))
    if getattr(layer, "_graph", None) is not None:  # a model used as a layer
        inner = _forward_plan(layer._graph, sizes["batch"], sizes["element"])
        saves.append((("nested", index), sum(step.saved for step in inner)))
    return saves


def _uses(graph: Any) -> tuple[dict[int, int], dict[int, int], dict[int, Any]]:
    """Per tensor: the call that makes it (-1 for inputs), the last call that uses it, itself."""
    made = {id(t): -1 for t in graph.inputs}
    last: dict[int, int] = {}
    tensors = {id(t): t for t in graph.inputs}
    for index, node in enumerate(graph.nodes):
        for tensor in node.inputs:
            last[id(tensor)] = index
        for tensor in node.outputs:
            made[id(tensor)], tensors[id(tensor)] = index, tensor
    for tensor in graph.outputs:
        last[id(tensor)] = len(graph.nodes)  # returned: alive to the end
    return made, last, tensors


def _forward_plan(graph: Any, batch_size: int, element: int) -> list[_Step]:
    """Per call, in the order the graph runs: its output and what it newly keeps for backward."""
    made, last, tensors = _uses(graph)
    size = {key: _bytes(t, batch_size, element) for key, t in tensors.items()}
    ids: dict[int, Any] = {key: ("input", key) for key in made if made[key] == -1}
    seen: set[Any] = set()
    steps = []
    for index, node in enumerate(graph.nodes):
        out = id(node.outputs[0])
        view = type(node.layer).__name__ in ("Flatten", "Reshape") and len(node.inputs) == 1
        ids[out] = ids[id(node.inputs[0])] if view else ("output", out)
        sizes = {
            "in": [size[id(t)] for t in node.inputs],
            "out": size[out],
            "batch": batch_size,
            "element": element,
        }
        new = own_saved = 0
        for key, nbytes in _saves(node, index, ids, sizes):
            if key[0] != "input" and key not in seen:
                seen.add(key)
                new += nbytes
                own_saved += nbytes if key == ids[out] else 0
        own = {id(t) for t in node.inputs} | {out}
        earlier = [k for k in tensors if -1 < made[k] < index and k not in own]
        waiting = sum(size[k] for k in earlier if last.get(k, -1) > index and ids[k] not in seen)
        pending = sum(size[k] for k in earlier if last.get(k, -1) > index)
        grads_in = sum(size[id(t)] for t in node.inputs if made[id(t)] >= 0)
        output = 0 if view else size[out]
        steps.append(
            _Step(node.layer, output, size[out], new, grads_in, waiting, pending, own_saved)
        )
    return steps


def _backward_peak(steps: list[_Step], trainable: int) -> int:
    """Walk backward: saved tensors of earlier calls, the incoming and outgoing gradients, and
    the gradients of skipped-over tensors already begun.

    An activation's own gradient buffer is not counted: PyTorch frees the incoming gradient
    as soon as that buffer is made (measured with the profiler: tests/test_memory.py).
    """
    peak, kept = 0, 0
    kept_through = []
    for step in steps:
        kept += step.saved
        kept_through.append(kept)
    for index in range(len(steps) - 1, -1, -1):
        step = steps[index]
        kept = kept_through[index] - step.own  # its activation's backward already ran
        alive = kept + step.gradient + step.inputs + step.pending
        peak = max(peak, alive + trainable)
    return peak


def _per_layer(model: Any, graph: Any, steps: list[_Step]) -> list[LayerMemory]:
    """One entry per layer of ``model.layers``: its calls' outputs and saved tensors summed."""
    totals: dict[int, list[int]] = {}
    for step in steps:
        entry = totals.setdefault(id(step.layer), [0, 0])
        entry[0] = step.output  # the last call's output, as summaries show it
        entry[1] += step.saved
    return [LayerMemory(layer.name, *totals.get(id(layer), [0, 0])) for layer in model.layers]


def max_batch_size(model: Any, memory_bytes: int, optimizer: str = "adam") -> int:
    """The largest batch whose estimated training step (batch included) fits in ``memory_bytes``."""
    if isinstance(memory_bytes, bool) or not isinstance(memory_bytes, (int, float)):
        raise TypeError(
            f"max_batch_size: memory_bytes must be a number of bytes (an int > 0). "
            f"Received: memory_bytes={memory_bytes!r}"
        )
    if not memory_bytes > 0 or not math.isfinite(memory_bytes):
        raise ValueError(
            f"max_batch_size: memory_bytes must be > 0 and finite. Received: memory_bytes={memory_bytes!r}"
        )
    optimizer = check_choice(optimizer, "optimizer", "max_batch_size", choices=OPTIMIZER_SLOTS)
    _check_model(model, "max_batch_size")
    model._require_built("max_batch_size")
    low, high = 0, 1
    while training_memory(model, high, optimizer).total <= memory_bytes:
        low, high = high, high * 2
        if high > 2**31:
            return low
    while high - low > 1:
        middle = (low + high) // 2
        if training_memory(model, middle, optimizer).total <= memory_bytes:
            low = middle
        else:
            high = middle
    return low
