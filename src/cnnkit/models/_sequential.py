"""Sequential: a linear stack of layers, built with ``.add()`` as in the lecture."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn.modules import module as _torch_module

from cnnkit.layers._base import Layer, check_weight_list
from cnnkit.layers._core import InputLayer
from cnnkit.models import _summary
from cnnkit.training import Trainer

_module_call = nn.Module.__call__


def _hooks_registered(layers: tuple[nn.Module, ...]) -> bool:
    """True when any forward/backward hook is registered on one of ``layers`` or globally."""
    if (
        _torch_module._global_forward_hooks
        or _torch_module._global_forward_pre_hooks
        or _torch_module._global_backward_hooks
        or _torch_module._global_backward_pre_hooks
    ):
        return True
    for layer in layers:
        if (
            layer._forward_hooks
            or layer._forward_pre_hooks
            or layer._backward_hooks
            or layer._backward_pre_hooks
        ):
            return True
    return False


def _fused_pairs(layers: tuple[Layer, ...], forwards: tuple) -> tuple[tuple, frozenset[int]]:
    """``forwards`` with each layer that fuses with the next (``Layer._fused_with``) run by
    that one function and the next layer's entry a no-op, and the positions of those no-ops
    (a run that stops at one must not use the fused function)."""
    fused, seconds = list(forwards), set()
    for i in range(len(layers) - 1):
        if i in seconds:
            continue
        pair = layers[i]._fused_with(layers[i + 1])
        if pair is not None:
            fused[i], fused[i + 1] = pair, _unchanged
            seconds.add(i + 1)
    return tuple(fused), frozenset(seconds)


def _unchanged(x: torch.Tensor) -> torch.Tensor:
    return x


class Sequential(Trainer, Layer):
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
        self.stack = nn.ModuleDict()
        self._model_input_shape: tuple | None = None
        self._input_layer: InputLayer | None = None
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
            self._set_input_shape(layer.shape, layer.batch_size)
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
                layer.build_for(self._output_shape_before(layer))
            except Exception:
                del self.stack[layer.name]
                raise
            self.output_shape = layer.output_shape
            self.built = True

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

    def _set_input_shape(self, shape: Sequence[int | None], batch_size: int | None) -> None:
        self._model_input_shape = (batch_size, *shape)
        self.input_shape = (None, *shape)

    def _output_shape_before(self, layer: Layer) -> tuple:
        shape = self._model_input_shape
        for other in self.stack.values():
            if other is layer:
                return shape
            shape = other.output_shape
        return shape

    def pop(self) -> Layer:
        """Remove and return the last layer."""
        if not len(self.stack):
            raise ValueError("Sequential.pop: the model has no layers to remove")
        name = list(self.stack)[-1]
        layer = self.stack.pop(name)
        self._forget_forwards()
        self.output_shape = self.layers[-1].output_shape if self.layers else self.input_shape
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
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.run_layers(x)

    def run_layers(self, x: torch.Tensor, stop: int | None = None, start: int = 0) -> torch.Tensor:
        """Pass ``x`` through the layers from index ``start`` to before index ``stop`` (to the
        end when None)."""
        forwards = self._direct_forwards(stop, start)
        if forwards is not None:
            for forward in forwards[start:stop]:
                x = forward(x)
            return x
        # Built layers skip Layer.__call__'s input conversion: the model did it once on entry.
        # nn.Module.__call__ runs, so hooks (cnnkit.inspect) see every layer.
        for layer in self.layers[start:stop]:
            x = _module_call(layer, x) if layer.plain_call else layer(x)
        return x

    def _direct_forwards(
        self, stop: int | None = None, start: int = 0
    ) -> tuple[Callable[[torch.Tensor], torch.Tensor], ...] | None:
        """The layers' ``forward`` methods when calling them is all that calling the layers
        would do: every layer built without an activity penalty, no hook registered on any
        layer or globally, no TorchScript tracing. Skipping ``nn.Module.__call__`` per layer
        saves about 10% of a batch-1 LeNet-5 forward (bench/bench_forward.py). Two layers that
        fuse (``Layer._fused_with``, e.g. RandomFlip then RandomTranslation) run as one call
        with the same result, unless ``start`` or ``stop`` falls between them."""
        cached = self.__dict__.get("_forwards_cache")
        if cached is None:
            layers = tuple(self.stack.values())
            if not all(layer.plain_call for layer in layers):
                return None
            forwards = tuple(layer.forward for layer in layers)
            cached = self.__dict__["_forwards_cache"] = (
                layers,
                forwards,
                *_fused_pairs(layers, forwards),
            )
        layers, forwards, fused, seconds = cached
        if _hooks_registered(layers) or torch._C._get_tracing_state():
            return None
        if not seconds:
            return forwards
        cuts = {start % len(layers)} | (set() if stop is None else {stop % len(layers)})
        return forwards if cuts & seconds else fused

    def _forget_forwards(self) -> None:
        self.__dict__.pop("_forwards_cache", None)

    # ----------------------------------------------------------------- inspection
    @property
    def layers(self) -> list[Layer]:
        """The layers in order (an Input/InputLayer is not listed, as in Keras)."""
        return list(self.stack.values())

    def get_layer(self, name: str | None = None, index: int | None = None) -> Layer:
        """Return a layer by its unique name or by its position."""
        if (name is None) == (index is None):
            raise ValueError("Sequential.get_layer: provide exactly one of name or index")
        if index is not None and (isinstance(index, bool) or not isinstance(index, int)):
            raise TypeError(
                f"Sequential.get_layer: index must be an int. Received: index={index!r}"
            )
        if name is not None and not isinstance(name, str):
            raise TypeError(f"Sequential.get_layer: name must be a string. Received: name={name!r}")
        if index is not None:
            if not -len(self.stack) <= index < len(self.stack):
                raise ValueError(
                    f"Sequential.get_layer: index {index} is out of range for {len(self.stack)} layers"
                )
            return self.layers[index]
        if name not in self.stack:
            raise ValueError(
                f"Sequential.get_layer: no layer named {name!r}. Layer names: {list(self.stack)}"
            )
        return self.stack[name]

    def keras_weights(self) -> list[torch.Tensor]:
        return [w for layer in self.stack.values() for w in layer.keras_weights()]

    def set_weights(self, weights: Sequence[Any]) -> None:
        """Load weights in Keras' layouts and order, e.g. ``keras_model.get_weights()``."""
        self._require_built("set_weights")
        weights = check_weight_list(weights, f"Sequential {self.name!r}: set_weights")
        expected = sum(len(layer.keras_weights()) for layer in self.stack.values())
        if len(weights) != expected:
            raise ValueError(
                f"Sequential {self.name!r}: set_weights expects {expected} arrays (one per weight, in Keras' "
                f"order); received {len(weights)}"
            )
        start = 0
        for layer in self.stack.values():
            count = len(layer.keras_weights())
            layer.set_weights(weights[start : start + count])
            start += count

    def get_weights(self) -> list[np.ndarray]:
        """Return every weight as a NumPy array in Keras' layouts and order."""
        self._require_built("get_weights")
        return super().get_weights()

    def count_params(self) -> int:
        """Total number of scalars in the model's weights (trainable and not)."""
        self._require_built("count_params")
        return sum(layer.count_params() for layer in self.stack.values())

    @property
    def trainable(self) -> bool:
        """Whether the optimizer may change the weights; setting it freezes or unfreezes all layers."""
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        self._trainable = bool(value)
        for layer in getattr(self, "stack", {}).values():
            layer.trainable = value

    @property
    def losses(self) -> list[torch.Tensor]:
        """Every layer's regularization penalties (added to the training loss)."""
        return [loss for layer in self.stack.values() for loss in layer.losses]

    def apply_constraints(self) -> None:
        """Project every layer's weights onto its constraints (after each optimizer step)."""
        for layer in self.stack.values():
            layer.apply_constraints()

    def _require_built(self, what: str) -> None:
        if not self.built:
            raise ValueError(
                f"Sequential {self.name!r}: {what} needs a built model. Give input_shape= to the first "
                "layer, start with cnnkit.Input(shape=...), call model.build((None, *shape)) or call "
                "the model on a batch of data first."
            )

    # ----------------------------------------------------------------- summary
    def summary(
        self,
        line_length: int | None = None,
        print_fn: Callable[[str], Any] | None = None,
        show_trainable: bool = False,
        formulas: bool = False,
        batch_size: int | None = None,
    ) -> None:
        """Print each layer's name (type), output shape and parameter count, then the totals.

        Args:
            line_length: minimum width of the table in characters.
            print_fn: called with each line instead of ``print`` (e.g. a logger or list.append).
            show_trainable: add a column saying whether each layer is trainable.
            formulas: write each parameter count as the lecture's arithmetic,
                ``6 × (5×5×1) + 6 = 156``.
            batch_size: add each layer's activation memory for a batch of this size and the
                estimated memory of a training step (see ``cnnkit.memory.training_memory``).
        """
        if print_fn is not None and not callable(print_fn):
            raise TypeError(
                f"summary: print_fn must be a function of one string, such as print. Received: print_fn={print_fn!r}"
            )
        for line in self._summary_lines(
            line_length, show_trainable, formulas, batch_size, "summary"
        ):
            (print_fn or print)(line)

    def summary_text(
        self,
        line_length: int | None = None,
        show_trainable: bool = False,
        formulas: bool = False,
        batch_size: int | None = None,
    ) -> str:
        """Return what :meth:`summary` prints, as one string."""
        return "\n".join(
            self._summary_lines(line_length, show_trainable, formulas, batch_size, "summary_text")
        )

    def _summary_lines(self, line_length, show_trainable, formulas, batch_size, what) -> list[str]:
        self._require_built(what)
        _check_summary_arguments(what, line_length, batch_size)
        return _summary.summary_lines(self, line_length, show_trainable, formulas, batch_size)

    def get_config(self) -> dict[str, Any]:
        config: dict[str, Any] = {"name": self.name, "layers": []}
        if self._model_input_shape is not None:
            config["input_shape"] = list(self._model_input_shape[1:])
        for layer in self.stack.values():
            config["layers"].append(
                {"class_name": type(layer).__name__, "config": layer.get_config()}
            )
        return config

    def extra_repr(self) -> str:
        return f"name={self.name!r}"


def _check_summary_arguments(what: str, line_length: Any, batch_size: Any) -> None:
    """Reject a non-int or non-positive ``line_length``/``batch_size`` of summary()."""
    for name, value in (("line_length", line_length), ("batch_size", batch_size)):
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(
                f"{what}: {name} must be an int >= 1 or None. Received: {name}={value!r}"
            )
        if value < 1:
            raise ValueError(
                f"{what}: {name} must be an int >= 1 or None. Received: {name}={value!r}"
            )


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
