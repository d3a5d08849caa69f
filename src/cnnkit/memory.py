"""How much memory training takes: the batch, the activations kept for backward, parameters,
gradients and optimizer state ("the whole batch and the corresponding activations have to be
stored in memory"). An estimate from shapes alone, checked against PyTorch's own accounting."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

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
        model: a built Sequential model.
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
    inputs = batch_size * math.prod(model.input_shape[1:]) * element
    layers, saved_by_layer, outputs = _forward_plan(model, batch_size, element)
    peak_backward = _backward_peak(model, batch_size, element, saved_by_layer, outputs, trainable)
    optimizer_state = trainable * OPTIMIZER_SLOTS[optimizer]
    peak_step = trainable + optimizer_state
    peak_forward = max(
        (sum(saved_by_layer[: i + 1]) + outputs[i] for i in range(len(outputs))), default=0
    )
    return MemoryEstimate(
        batch_size=batch_size,
        inputs=inputs,
        parameters=parameters,
        gradients=trainable,
        optimizer_state=optimizer_state,
        activations=sum(saved_by_layer),
        peak=max(peak_forward, peak_backward, peak_step),
        layers=layers,
    )


def _check_model(model: Any, owner: str) -> None:
    """Raise a TypeError unless ``model`` is a cnnkit Sequential model."""
    from cnnkit.models import Sequential

    if not isinstance(model, Sequential):
        raise TypeError(
            f"{owner}: model must be a cnnkit Sequential model. Received: model of type "
            f"{type(model).__name__}"
        )


def _forward_plan(
    model, batch_size: int, element: int
) -> tuple[list[LayerMemory], list[int], list[int]]:
    """Per layer: bytes of its output and of the tensors it newly keeps for backward."""
    seen: set[tuple[str, int]] = set()
    layers, saved_by_layer, outputs = [], [], []
    current = ("input", -1)  # identity of the tensor flowing between layers
    for index, layer in enumerate(model.layers):
        kind = type(layer).__name__
        in_size = batch_size * math.prod(layer.input_shape[1:])
        out_size = batch_size * math.prod(layer.output_shape[1:])
        output_id = current if kind in ("Flatten", "InputLayer") else ("output", index)
        saves: list[tuple[tuple[str, int], int]] = []
        if kind in ("Conv2D", "Dense", "BatchNormalization", "AveragePooling2D"):
            saves.append((current, in_size * element))
        if kind == "MaxPooling2D" or kind == "GlobalMaxPooling2D":
            saves += [(current, in_size * element), (("indices", index), out_size * 8)]
        if kind == "Dropout" and layer.rate:
            saves.append((("mask", index), out_size))  # one byte per element
        activation = getattr(layer, "activation", None)
        if activation is not None and activation is not activations_module.linear:
            if activation in _SAVES_OUTPUT:
                saves.append((output_id, out_size * element))
            else:
                saves.append((("pre-activation", index), out_size * element))
        if kind in ("ReLU", "Softmax"):
            saves.append((output_id, out_size * element))
        if kind == "LeakyReLU":
            saves.append((current, in_size * element))
        new = 0
        for identity, size in saves:
            if identity[0] != "input" and identity not in seen:
                seen.add(identity)
                new += size
        layers.append(
            LayerMemory(layer.name, 0 if output_id == current else out_size * element, new)
        )
        saved_by_layer.append(new)
        outputs.append(0 if output_id == current else out_size * element)
        current = output_id
    return layers, saved_by_layer, outputs


def _backward_peak(model, batch_size, element, saved_by_layer, outputs, trainable) -> int:
    """Walk backward: saved tensors of earlier layers, the incoming and outgoing gradients.

    An activation's own gradient buffer is not counted: PyTorch frees the incoming gradient
    as soon as that buffer is made (measured with the profiler: tests/test_memory.py).
    """
    peak = 0
    for index in range(len(saved_by_layer) - 1, -1, -1):
        layer = model.layers[index]
        grad_out = batch_size * math.prod(layer.output_shape[1:]) * element
        grad_in = 0 if index == 0 else batch_size * math.prod(layer.input_shape[1:]) * element
        alive = sum(saved_by_layer[: index + 1]) + grad_out + grad_in
        peak = max(peak, alive + trainable)
    return peak


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
