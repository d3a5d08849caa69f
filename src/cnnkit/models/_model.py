"""Model: what every cnnkit model shares (layers, weights, summary, compile/fit/evaluate/
predict), and the functional model, ``Model(inputs, outputs)``, that runs a graph of layers."""

from __future__ import annotations

import inspect as _inspect
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from cnnkit.layers._base import Layer
from cnnkit.layers._symbolic import KerasTensor
from cnnkit.layers._weights import check_weight_list
from cnnkit.models._graph import Graph
from cnnkit.models._layer_dict import LayerDict
from cnnkit.models._saving_methods import SavingMethods
from cnnkit.models._summary_methods import SummaryMethods
from cnnkit.training import Trainer


class Model(SummaryMethods, SavingMethods, Trainer, Layer):
    """A model: layers with weights, trained with ``compile``/``fit``, a ``torch.nn.Module``.

    Made three ways, as in Keras: from symbolic tensors, ``Model(inputs, outputs)`` (the
    functional API: any graph of layers, several inputs or outputs as lists or dicts); as a
    subclass that creates layers in ``__init__`` and uses them in ``call(inputs)``; or as a
    :class:`~cnnkit.models.Sequential` stack.

    Example:
        >>> import cnnkit
        >>> from cnnkit import layers
        >>> inputs = cnnkit.Input(shape=(32, 32, 3))
        >>> x = layers.Conv2D(16, 3, padding="same", activation="relu")(inputs)
        >>> y = layers.Conv2D(16, 3, padding="same")(x)
        >>> x = layers.Activation("relu")(layers.Add()([x, y]))
        >>> outputs = layers.Dense(10, activation="softmax")(layers.GlobalAveragePooling2D()(x))
        >>> cnnkit.Model(inputs, outputs).count_params()
        2938
    """

    def __init__(
        self,
        inputs: Any = None,
        outputs: Any = None,
        name: str | None = None,
        trainable: bool = True,
    ):
        graph_given = inputs is not None or outputs is not None
        super().__init__(name=name or ("functional" if graph_given else None), trainable=trainable)
        self.stack = LayerDict()
        self._graph: Graph | None = None
        if graph_given:
            if inputs is None or outputs is None:
                raise ValueError(
                    f"{self._owner()}: a functional model needs both inputs and outputs, e.g. "
                    "Model(inputs=cnnkit.Input((28, 28, 1)), outputs=predictions)"
                )
            self._set_graph(Graph(inputs, outputs, self._owner()))

    # ----------------------------------------------------------------- the graph
    def _set_graph(self, graph: Graph) -> None:
        self._graph = graph
        self._list_inputs = len(graph.inputs) > 1
        taken: set[str] = set()
        for layer in graph.layers:
            if layer is self:
                raise ValueError(f"{self._owner()}: a model cannot contain itself")
            self._register(layer, taken)
        shapes = [(None, *t.shape[1:]) for t in graph.inputs]
        outputs = [tuple(t.shape) for t in graph.outputs]
        self.input_shape = shapes[0] if len(shapes) == 1 else shapes
        self.output_shape = outputs[0] if len(outputs) == 1 else outputs
        self.built = True

    def _register(self, layer: Layer, taken: set[str]) -> None:
        """Add ``layer`` under a name unique in this model (auto names get _1, _2, ...)."""
        if layer._auto_named and layer.name in taken:
            base, index = layer.name, 1
            while f"{base}_{index}" in taken:
                index += 1
            layer.name = f"{base}_{index}"
        elif layer.name in taken:
            raise ValueError(
                f"{self._owner()}: every layer of a model needs a unique name; {layer.name!r} is "
                f"used twice. Layer names: {sorted(taken)}"
            )
        taken.add(layer.name)
        self.stack[layer.name] = layer

    @property
    def inputs(self) -> list[KerasTensor]:
        """The model's symbolic inputs (``cnnkit.Input`` tensors), in order."""
        return list(self._require_graph("inputs").inputs)

    @property
    def outputs(self) -> list[KerasTensor]:
        """The model's symbolic outputs, in order."""
        return list(self._require_graph("outputs").outputs)

    @property
    def input(self) -> Any:
        """The symbolic input (a list when the model has several)."""
        inputs = self.inputs
        return inputs[0] if len(inputs) == 1 else inputs

    @property
    def output(self) -> Any:
        """The symbolic output (a list when the model has several)."""
        outputs = self.outputs
        return outputs[0] if len(outputs) == 1 else outputs

    def _require_graph(self, what: str) -> Graph:
        if self._graph is None:
            raise ValueError(
                f"{self._owner()} has no {what}: it was not made from symbolic tensors "
                "(cnnkit.Model(inputs, outputs)) and its input shape is not known yet"
            )
        return self._graph

    # ----------------------------------------------------------------- running
    def _from_dict(self, inputs: dict) -> Any:
        """A dict of arrays keyed by input name, as the graph's inputs (one or a list)."""
        if self._graph is None:
            return inputs
        values = self._graph.flat_inputs(inputs, self._owner())
        return values if len(values) > 1 else values[0]

    def forward(self, inputs: Any, training: bool | None = None) -> Any:
        if self._graph is not None:
            graph = self._graph
            if (
                training is not None and bool(training) != self.training
            ):  # Keras' model(x, training=)
                return run_in_mode(self, bool(training), lambda: self.forward(inputs))
            return graph.pack_outputs(graph.run(graph.flat_inputs(inputs, self._owner())))
        return _call_subclass(self, inputs, training)

    def compute_output_shape(self, input_shape: Any) -> Any:
        graph = self._require_graph("output shape")
        shapes = input_shape if isinstance(input_shape, list) else [input_shape]
        expected = [t.shape for t in graph.inputs]
        if len(shapes) != len(expected) or any(
            len(s) != len(e)
            or any(a is not None and b is not None and a != b for a, b in zip(s[1:], e[1:]))
            for s, e in zip(shapes, expected)
        ):
            raise ValueError(
                f"{self._owner()} expects inputs of shape "
                + ", ".join(str((None, *e[1:])) for e in expected)
                + f"; received {input_shape}"
            )
        return self.output_shape

    def build(self, input_shape: Any = None) -> None:
        """Create the weights of a subclassed model for inputs of ``input_shape`` (batch axis
        first), by calling it once; a functional model is built already."""
        if self._graph is None and not self.built:
            if input_shape is None:
                raise ValueError(
                    f"{self._owner()}: build needs input_shape, e.g. (None, 28, 28, 1)"
                )
            _build_subclass(self, input_shape)

    def build_for(self, input_shape: Any) -> Any:
        if self._graph is not None:
            return self.compute_output_shape(input_shape)
        return _build_subclass(self, input_shape)

    # ----------------------------------------------------------------- layers and weights
    @property
    def layers(self) -> list[Layer]:
        """The model's layers in the order they run (a functional model lists its inputs)."""
        if self._subclassed:
            return [m for m in self.children() if isinstance(m, Layer)]
        return list(self.stack.values())

    def get_layer(self, name: str | None = None, index: int | None = None) -> Layer:
        """Return a layer by its unique name or by its position in ``layers``."""
        what = f"{type(self).__name__}.get_layer"
        if (name is None) == (index is None):
            raise ValueError(f"{what}: provide exactly one of name or index")
        layers = self.layers
        if index is not None:
            if isinstance(index, bool) or not isinstance(index, int):
                raise TypeError(f"{what}: index must be an int. Received: index={index!r}")
            if not -len(layers) <= index < len(layers):
                raise ValueError(f"{what}: index {index} is out of range for {len(layers)} layers")
            return layers[index]
        if not isinstance(name, str):
            raise TypeError(f"{what}: name must be a string. Received: name={name!r}")
        for layer in layers:
            if layer.name == name:
                return layer
        raise ValueError(
            f"{what}: no layer named {name!r}. Layer names: {[layer.name for layer in layers]}"
        )

    def keras_weights(self) -> list[torch.Tensor]:
        if self._subclassed:
            return super().keras_weights()  # its own add_weight weights, then its sublayers'
        return [w for layer in self.layers for w in layer.keras_weights()]

    @property
    def _subclassed(self) -> bool:
        return self._graph is None and not len(self.stack)

    def set_weights(self, weights: Sequence[Any]) -> None:
        """Load weights in Keras' layouts and order, e.g. ``keras_model.get_weights()``."""
        self._require_built("set_weights")
        weights = check_weight_list(weights, f"{self._owner()}: set_weights")
        counts = [len(layer.keras_weights()) for layer in self.layers]
        if len(weights) != sum(counts):
            raise ValueError(
                f"{self._owner()}: set_weights expects {sum(counts)} arrays (one per weight, in "
                f"Keras' order); received {len(weights)}"
            )
        start = 0
        for layer, count in zip(self.layers, counts):
            if count:
                layer.set_weights(weights[start : start + count])
            start += count

    def get_weights(self) -> list[np.ndarray]:
        """Return every weight as a NumPy array in Keras' layouts and order."""
        self._require_built("get_weights")
        return super().get_weights()

    def count_params(self) -> int:
        """Total number of scalars in the model's weights (trainable and not; shared once)."""
        self._require_built("count_params")
        if self._subclassed:
            return super().count_params()
        return sum(layer.count_params() for layer in self.layers)

    @property
    def trainable(self) -> bool:
        """Whether the optimizer may change the weights; setting it freezes or unfreezes all layers."""
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        self._trainable = bool(value)
        for layer in self.layers if "stack" in self._modules else ():
            layer.trainable = value

    @property
    def losses(self) -> list[torch.Tensor]:
        """Every layer's regularization penalties (added to the training loss)."""
        if self._subclassed:
            return super().losses  # add_loss values of its call, then its sublayers' losses
        return [loss for layer in self.layers for loss in layer.losses]

    def apply_constraints(self) -> None:
        """Project every layer's weights onto its constraints (after each optimizer step)."""
        if self._subclassed:
            super().apply_constraints()
            return
        for layer in self.layers:
            layer.apply_constraints()

    def _require_built(self, what: str) -> None:
        if not self.built:
            raise ValueError(
                f"{type(self).__name__} {self.name!r}: {what} needs a built model. Give "
                "input_shape= to the first layer, start with cnnkit.Input(shape=...), call "
                "model.build((None, *shape)) or call the model on a batch of data first."
            )

    def get_config(self) -> dict[str, Any]:
        """The JSON-able description ``from_config`` rebuilds the model from (Keras' shape)."""
        from cnnkit.models import _functional_config

        if self._graph is None:
            raise NotImplementedError(
                f"{self._owner()}: a subclassed model has no config; override get_config() "
                "to return its constructor's arguments, or save only its weights with "
                "save_weights(path)"
            )
        return _functional_config.graph_config(self)

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: dict[str, type] | None = None):
        """The model ``get_config()`` described; ``custom_objects`` names your layer classes."""
        from cnnkit.models._from_config import model_from_config

        if cls is Model:
            return model_from_config(config, custom_objects)
        return cls(**config)  # a subclass: its get_config() gives its constructor's arguments

    def to_json(self, **kwargs: Any) -> str:
        """The model's architecture as JSON (``{"class_name", "config"}``), for ``model_from_json``."""
        import json

        from cnnkit.models._functional_config import layer_entry
        from cnnkit.models._model_file_write import refuse_unsaveable

        refuse_unsaveable(self, "to_json")
        return json.dumps(layer_entry(self), **kwargs)

    def extra_repr(self) -> str:
        return f"name={self.name!r}"


def run_in_mode(model: nn.Module, training: bool, compute: Callable[[], Any]) -> Any:
    """``compute()`` with ``model`` in training (True) or inference mode, then back."""
    was_training = model.training
    model.train(training)
    try:
        return compute()
    finally:
        model.train(was_training)


def _call_signature(cls: type) -> _inspect.Signature:
    return _inspect.signature(cls.call)


def _call_subclass(model: Model, inputs: Any, training: bool | None) -> Any:
    """A subclassed model's ``call(inputs[, training])``, as Keras users write it."""
    call = getattr(type(model), "call", None)
    if call is None:
        raise NotImplementedError(
            f"{model._owner()}: a subclassed Model computes its outputs in call(self, inputs); "
            "or make it with cnnkit.Model(inputs, outputs)"
        )
    if "training" in _call_signature(type(model)).parameters:
        return call(model, inputs, training=model.training if training is None else training)
    return call(model, inputs)


def _build_subclass(model: Model, input_shape: Any) -> Any:
    """Build a subclassed model by calling it once on zeros of ``input_shape`` (batch 1, in
    inference mode, so no statistics move)."""
    shape = (None, *tuple(input_shape)[1:])
    if any(s is None for s in shape[1:]):
        raise ValueError(f"{model._owner()}: cannot build for an unknown size in {shape}")
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            output = model.forward(torch.zeros((1, *shape[1:]), dtype=model.dtype))
    finally:
        model.train(was_training)
    model.input_shape, model.output_shape = shape, (None, *output.shape[1:])
    model.built = True
    taken: set[str] = set()
    for layer in model.layers:  # auto-named sublayers get names unique in the model, as in Keras
        if layer._auto_named and layer.name in taken:
            base, index = layer.name, 1
            while f"{base}_{index}" in taken:
                index += 1
            layer.name = f"{base}_{index}"
        taken.add(layer.name)
    return model.output_shape
