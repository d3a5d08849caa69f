"""Sequential: a linear stack of layers, built with ``.add()`` as in the lecture.

It is the linear case of the graph model: once the input shape is known, each added layer is
called on the previous layer's symbolic output, so ``model.inputs``, ``layer.output`` and
feature extractors (``Model(model.inputs, [l.output for l in model.layers])``) work as in
Keras. Running it is the plain loop over its layers, through the direct-forward fast path
of ``cnnkit._fast`` when nothing needs the layers called.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import torch

from cnnkit._fast._forward import DirectChain, run_chain
from cnnkit.layers._base import Layer
from cnnkit.layers._core import InputLayer
from cnnkit.layers._symbolic import KerasTensor
from cnnkit.models._graph import Graph
from cnnkit.models._model import Model, run_in_mode


class Sequential(Model):
    """A model that passes its input through each layer in turn.

    Shapes are inferred as soon as the input shape is known (``input_shape=`` on the first
    layer, or an ``Input``/``InputLayer``); otherwise the model is built on its first call.
    Unnamed layers get names unique within the model (``conv2d``, ``conv2d_1``, ...), the same
    on every run. The model is a ``torch.nn.Module``: ``model.parameters()``, ``model.to()``,
    ``model.eval()`` and ``torch.compile(model)`` work as usual.

    Example:
        >>> from cnnkit.layers import Conv2D, Dense, Flatten, MaxPooling2D
        >>> model = Sequential()
        >>> model.add(Conv2D(filters=64, kernel_size=3, activation="relu", input_shape=(28, 28, 1)))
        >>> model.add(MaxPooling2D(pool_size=(2, 2)))
        >>> model.add(Flatten())
        >>> model.add(Dense(10, activation="softmax"))
        >>> model.count_params()
        108810
    """

    def __init__(
        self, layers: Iterable[Layer] | None = None, name: str | None = None, trainable: bool = True
    ):
        super().__init__(name=name, trainable=trainable)
        self._model_input_shape: tuple | None = None
        self._input_layer: InputLayer | None = None
        self._tensors: list[KerasTensor] = []  # the input, then each layer's symbolic output
        if layers is not None:
            if isinstance(layers, (Layer, str, bytes)) or not isinstance(layers, Iterable):
                raise TypeError(
                    f"Sequential: layers must be a list of layers. Received: layers={layers!r}"
                )
            for layer in layers:
                self.add(layer)

    # ----------------------------------------------------------------- building the stack
    def add(self, layer: Layer) -> None:
        """Append ``layer``; its output shape is computed at once when the input shape is known."""
        if isinstance(layer, KerasTensor) and layer.node is not None and not layer.node.inputs:
            layer = layer.node.layer  # cnnkit.Input(...) stands for its InputLayer
        if not isinstance(layer, Layer):
            raise TypeError(
                "Sequential.add expects a cnnkit layer such as cnnkit.layers.Dense(10). "
                f"Received: {layer!r} (type {type(layer).__name__})"
            )
        if layer is self:
            raise ValueError("Sequential.add: a model cannot be added to itself")
        if isinstance(layer, InputLayer):
            if len(self.stack) or self._input_layer is not None:
                raise ValueError(
                    "Sequential.add: an Input/InputLayer can only be the first layer of the model"
                )
            self._input_layer = layer
            self._set_input_shape(layer.shape, layer.batch_size, layer)
            return
        self._assign_name(layer)
        if (
            not len(self.stack)
            and self._model_input_shape is None
            and layer.input_shape_hint is not None
        ):
            self._set_input_shape(layer.input_shape_hint, layer.batch_size)
        self.stack[layer.name] = layer
        self._forget_forwards()
        if self._model_input_shape is not None:
            try:
                self._connect(layer)
            except Exception:
                del self.stack[layer.name]
                raise

    def _assign_name(self, layer: Layer) -> None:
        taken = set(self.stack) | ({self._input_layer.name} if self._input_layer else set())
        if layer._auto_named:
            base = (
                layer.name.rsplit("_", 1)[0]
                if layer.name.rsplit("_", 1)[-1].isdigit()
                else layer.name
            )
            name, index = base, 0
            while name in taken:
                index += 1
                name = f"{base}_{index}"
            layer.name = name
        elif layer.name in taken:
            raise ValueError(
                f"Sequential.add: every layer of a model needs a unique name; {layer.name!r} is already "
                f"used. Layer names: {sorted(taken)}"
            )

    def _set_input_shape(
        self, shape: Sequence[int | None], batch_size: int | None, layer: InputLayer | None = None
    ) -> None:
        self._model_input_shape = (batch_size, *shape)
        self.input_shape = (None, *shape)
        self.input_shape_hint = tuple(shape)  # so an outer Sequential learns it too
        layer = layer or InputLayer(shape=tuple(shape), batch_size=batch_size, dtype=self.dtype)
        self._tensors = [layer.output]

    def _connect(self, layer: Layer) -> None:
        """Call ``layer`` on the last symbolic output: builds it and records the graph."""
        output = layer(self._tensors[-1])
        if isinstance(output, list):
            raise ValueError(
                f"Sequential.add: every layer of a Sequential model must have one output; "
                f"{layer._owner()} has {len(output)}. Use cnnkit.Model(inputs, outputs)"
            )
        self._tensors.append(output)
        self._update_graph()

    def _update_graph(self) -> None:
        self._graph = Graph(self._tensors[0], self._tensors[-1], self._owner())
        self.output_shape = (None, *self._tensors[-1].shape[1:])
        self.built = len(self._tensors) > 1 or self.built

    def pop(self) -> Layer:
        """Remove and return the last layer."""
        if not len(self.stack):
            raise ValueError("Sequential.pop: the model has no layers to remove")
        name = list(self.stack)[-1]
        layer = self.stack.pop(name)
        self._forget_forwards()
        if len(self._tensors) > 1:
            self._tensors.pop()
            self._update_graph()
        else:
            self.output_shape = self.input_shape
        return layer

    def compute_output_shape(self, input_shape):
        shape = tuple(input_shape)
        for layer in self.stack.values():
            shape = layer.build_for(shape)
        return shape

    def build_for(self, input_shape):
        input_shape = (None, *tuple(input_shape)[1:])
        if self._model_input_shape is None:
            self._set_input_shape(input_shape[1:], None)
            for layer in self.stack.values():
                self._connect(layer)
        self.output_shape = self.compute_output_shape(input_shape)
        self.built = True
        return self.output_shape

    def build(self, input_shape: Sequence[int | None] | None = None) -> None:
        """Create every layer's weights for inputs of ``input_shape`` (with the batch axis)."""
        if input_shape is None:
            if self._model_input_shape is None:
                raise ValueError(
                    "Sequential.build needs input_shape, e.g. build((None, 28, 28, 1))"
                )
            input_shape = self._model_input_shape
        if not self.built:
            self.build_for(_check_build_shape(input_shape))

    # ----------------------------------------------------------------- running
    def forward(self, x: torch.Tensor, training: bool | None = None) -> torch.Tensor:
        if training is None or bool(training) == self.training:
            return self.run_layers(x)
        return run_in_mode(self, bool(training), lambda: self.run_layers(x))

    def run_layers(self, x: torch.Tensor, stop: int | None = None, start: int = 0) -> torch.Tensor:
        """Pass ``x`` through the layers from index ``start`` to before index ``stop`` (to the
        end when None): each layer in turn (see cnnkit._fast._forward for the fast path)."""
        chain = self.__dict__.get("_direct") or self._direct_chain()
        return run_chain(
            chain, chain.layers if chain else tuple(self.stack.values()), x, start, stop
        )

    def _direct_chain(self) -> DirectChain | None:
        chain = self.__dict__.get("_direct")
        if chain is None:
            chain = DirectChain(tuple(self.stack.values()))
            if not chain.usable:
                return None
            self.__dict__["_direct"] = chain
        return chain

    def _forget_forwards(self) -> None:
        self.__dict__.pop("_direct", None)

    # ----------------------------------------------------------------- inspection
    @property
    def layers(self) -> list[Layer]:
        """The layers in order (an Input/InputLayer is not listed, as in Keras)."""
        return list(self.stack.values())

    def get_config(self) -> dict[str, Any]:
        config: dict[str, Any] = {"name": self.name, "layers": []}
        if self._model_input_shape is not None:
            config["input_shape"] = list(self._model_input_shape[1:])
        for layer in self.stack.values():
            config["layers"].append(
                {"class_name": type(layer).__name__, "config": layer.get_config()}
            )
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: dict[str, type] | None = None):
        """The Sequential model ``get_config()`` described."""
        from cnnkit.models._from_config import model_from_config

        if cls is Sequential:
            return model_from_config(config, custom_objects)
        return cls(**config)


def _check_build_shape(input_shape: Any) -> tuple:
    """Return ``input_shape`` (batch axis first) as a tuple of None or positive ints, else raise."""
    message = (
        "Sequential.build: input_shape must be a tuple with the batch axis first, of None or "
        f"positive ints, e.g. (None, 28, 28, 1). Received: input_shape={input_shape!r}"
    )
    if isinstance(input_shape, (str, bytes)) or not isinstance(input_shape, Sequence):
        raise TypeError(message)
    shape = tuple(input_shape)
    if len(shape) < 2:
        raise ValueError(message + " - it needs the batch axis and at least one more")
    for size in shape:
        if size is None:
            continue
        if isinstance(size, bool) or not isinstance(size, (int, np.integer)):
            raise TypeError(message)
        if size < 1:
            raise ValueError(message)
    return shape
