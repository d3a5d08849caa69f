"""The Layer base class: Keras' naming, lazy building, weights in Keras layouts, penalties."""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from cnnkit._validation import check_positive_int, did_you_mean
from cnnkit._variable import Weight
from cnnkit.layers import _symbolic
from cnnkit.layers._arguments import _check_input_shape, _resolve_dtype, _serializable
from cnnkit.layers._subclassing import SubclassingAPI
from cnnkit.layers._weights import KerasWeights, as_real_array

Shape = tuple  # (None, height, width, channels) style: the batch axis is None

_BASE_ARGUMENTS = ("name", "trainable", "dtype", "input_shape", "batch_size", "input_dim")


def default_name(cls: type) -> str:
    """Keras' snake_case name for a layer class: Conv2D -> conv2d, MaxPooling2D -> max_pooling2d."""
    name = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", cls.__name__).lower()
    return name.replace("2_d", "2d").replace("1_d", "1d").replace("3_d", "3d")


class _CheckedArguments(type):
    """Metaclass that checks constructor arguments before Python binds them, so a misspelled
    keyword gets a "did you mean" instead of a bare "missing argument" TypeError."""

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        signature = inspect.signature(cls.__init__)
        accepted = [p for p in signature.parameters if p not in ("self", "kwargs")]
        accepted += [a for a in _BASE_ARGUMENTS if a not in accepted]
        for word in kwargs:
            if word not in accepted:
                raise TypeError(
                    f"{cls.__name__}: unexpected keyword argument {word!r}."
                    + did_you_mean(word, accepted)
                    + " Accepted: "
                    + ", ".join(accepted)
                )
        try:
            signature.bind(None, *args, **kwargs)
        except TypeError as error:
            raise TypeError(f"{cls.__name__}: {error}") from None
        return super().__call__(*args, **kwargs)


class Layer(KerasWeights, SubclassingAPI, nn.Module, metaclass=_CheckedArguments):
    """Base of every cnnkit layer: a ``torch.nn.Module`` with Keras' layer surface.

    Subclasses create their weights in ``build(input_shape)`` (shapes carry ``None`` for the
    batch axis), report shapes in ``compute_output_shape`` and compute in ``forward``; a layer
    written for Keras (``call``, ``self.add_weight(shape=...)``, ``self.add_loss``) works too.
    Weights are stored in PyTorch's layouts (``Conv2D.weight`` is (out, in, kh, kw)) so the
    module behaves like its ``torch.nn`` twin; ``get_weights``/``set_weights`` speak Keras'
    layouts ((kh, kw, in, out)) so weights move between the two libraries unchanged.
    """

    def __init__(
        self,
        name: str | None = None,
        trainable: bool = True,
        dtype: Any = None,
        input_shape: Sequence[int | None] | None = None,
        batch_size: int | None = None,
        input_dim: int | None = None,
        **unknown: Any,
    ):
        super().__init__()
        if unknown:
            self._reject_unknown_arguments(unknown)
        if name is not None and (not isinstance(name, str) or not name or "." in name):
            raise ValueError(
                f"{type(self).__name__}: name must be a non-empty string without '.'. Received: name={name!r}"
            )
        self.name = name or default_name(type(self))
        self._auto_named = name is None
        self.dtype = _resolve_dtype(dtype, type(self).__name__)
        if input_dim is not None and input_shape is None:
            input_shape = (input_dim,)
        self.input_shape_hint = _check_input_shape(input_shape, type(self).__name__)
        self.batch_size = check_positive_int(
            batch_size, "batch_size", type(self).__name__, optional=True
        )
        self.built = False
        self.input_shape: Shape | None = None
        self.output_shape: Shape | None = None
        self.activity_regularizer = None
        self._activity_penalty: torch.Tensor | None = None
        self._trainable = bool(trainable)
        self._inbound_nodes: list[_symbolic.Node] = []  # calls on symbolic tensors

    # ----------------------------------------------------------------- construction helpers
    def _reject_unknown_arguments(self, unknown: dict[str, Any]) -> None:
        accepted = [
            p
            for p in inspect.signature(type(self).__init__).parameters
            if p not in ("self", "kwargs")
        ]
        accepted += [a for a in _BASE_ARGUMENTS if a not in accepted]
        word = next(iter(unknown))
        raise TypeError(
            f"{type(self).__name__}: unexpected keyword argument {word!r}."
            + did_you_mean(word, accepted)
            + " Accepted: "
            + ", ".join(accepted)
        )

    def _owner(self) -> str:
        return f"{type(self).__name__} {self.name!r}"

    def _create_weight(
        self,
        name: str,
        keras_shape: tuple[int, ...],
        initializer: Any,
        torch_layout: tuple[int, ...] | None = None,
        trainable: bool = True,
    ) -> nn.Parameter | torch.Tensor:
        """Create a weight initialised in Keras' layout, stored permuted to ``torch_layout``.

        ``torch_layout`` gives, for each stored axis, the Keras axis it comes from (e.g. (3, 2,
        0, 1) stores a (kh, kw, in, out) kernel as (out, in, kh, kw)). Non-trainable weights
        become buffers (BatchNormalization's moving statistics).
        """
        value = initializer(tuple(keras_shape), dtype=self.dtype)
        value = torch.as_tensor(value, dtype=self.dtype)
        if tuple(value.shape) != tuple(keras_shape):
            raise ValueError(
                f"{self._owner()}: the initializer of {name} returned shape {tuple(value.shape)}, "
                f"expected {tuple(keras_shape)}"
            )
        if torch_layout is not None:
            value = value.permute(*torch_layout)
        value = value.contiguous()
        device = self._device()
        if device is not None:
            value = value.to(device)
        self._parameters.pop(name, None)  # a None placeholder must not fix the weight's position
        if trainable:
            parameter = Weight(value, requires_grad=self._trainable)
            self.register_parameter(name, parameter)
            return parameter
        self.register_buffer(name, value)
        return value

    def _device(self) -> torch.device | None:
        for tensor in self.parameters():
            return tensor.device
        return None

    # ----------------------------------------------------------------- building
    def build(self, input_shape: Shape) -> None:
        """Create the weights for inputs of ``input_shape``; layers without weights do nothing."""

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        """Return the output shape for ``input_shape`` (batch axis ``None``); default: unchanged,
        or, for a layer written with ``call``, what ``call`` returns for zeros."""
        if self._user_call:
            return self._probe_output_shape(input_shape)
        return tuple(input_shape)

    def build_for(self, input_shape: Sequence[int | None] | list[Shape]) -> Shape:
        """Check ``input_shape``, build once, and return the output shape (used by models).

        Layers that take a list of tensors (``_list_inputs``, e.g. ``Add``) get a list of shapes.
        """
        if (self._list_inputs or self._user_call) and isinstance(input_shape, list):
            input_shape = [(None, *tuple(shape)[1:]) for shape in input_shape]
        else:
            input_shape = (None, *tuple(input_shape)[1:])
        self.check_input_shape(input_shape)
        if self._user_call and not self.built:  # call() can only run once the weights exist
            self.build(input_shape)
            self.built = True
        output_shape = self.compute_output_shape(input_shape)
        if not self.built:
            self.build(input_shape)
            self.built = True
        self.input_shape = input_shape
        self.output_shape = (
            [tuple(s) for s in output_shape]
            if isinstance(output_shape, list)
            else tuple(output_shape)
        )
        return self.output_shape

    def check_input_shape(self, input_shape: Shape) -> None:
        """Raise a ValueError naming this layer when it cannot take ``input_shape``."""

    # ----------------------------------------------------------------- calling
    _list_inputs = False  # True for layers called on a list of tensors (merge layers)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if args and not isinstance(args[0], torch.Tensor):
            if isinstance(args[0], dict):
                args = (self._from_dict(args[0]), *args[1:])
                if isinstance(args[0], torch.Tensor):
                    return self.__call__(*args, **kwargs)
            if _symbolic.symbolic_tensors(args[0]) is not None:
                return _symbolic.call_symbolic(self, args, kwargs)
            if (self._list_inputs or self._user_call) and isinstance(args[0], (list, tuple)):
                return self._call_on_list(list(args[0]), args[1:], kwargs)
            args = (self._to_tensor(args[0]), *args[1:])
        if "_call_losses" in self.__dict__:
            del self.__dict__["_call_losses"]  # add_loss values are per call, as in Keras
        x = args[0]
        if x.dtype != self.dtype and (not x.is_floating_point() or x.dtype == torch.float64):
            args = (x.to(self.dtype), *args[1:])  # integers and NumPy's float64; autocast kept
        if not self.built:
            self.build_for(tuple(args[0].shape))
        output = super().__call__(*args, **kwargs)
        if self.activity_regularizer is not None:
            penalty = self.activity_regularizer(output)
            self._activity_penalty = (
                penalty / max(int(output.shape[0]), 1) if output.ndim else penalty
            )
        return output

    def _from_dict(self, inputs: dict) -> Any:
        """Inputs given as a dict (a model keys them by input name); a layer takes them as is."""
        return inputs

    def _call_on_list(self, inputs: list[Any], rest: tuple, kwargs: dict[str, Any]) -> Any:
        tensors = [x if isinstance(x, torch.Tensor) else self._to_tensor(x) for x in inputs]
        if not self.built:
            self.build_for([tuple(x.shape) for x in tensors])
        return nn.Module.__call__(self, tensors, *rest, **kwargs)

    @property
    def input(self) -> Any:
        """The symbolic input of this layer's first call on symbolic tensors (Keras'
        ``layer.input``): one tensor, or a list for a layer called on several."""
        node = self._first_node("input")
        return node.inputs if node.listed else node.inputs[0]

    @property
    def output(self) -> Any:
        """The symbolic output of this layer's first call on symbolic tensors."""
        node = self._first_node("output")
        return node.outputs if len(node.outputs) > 1 else node.outputs[0]

    def _first_node(self, what: str) -> _symbolic.Node:
        if not self._inbound_nodes:
            raise ValueError(
                f"{self._owner()} has no {what} yet: it has not been called on a symbolic "
                "tensor. Call it on cnnkit.Input(shape=...) or add it to a model whose input "
                "shape is known"
            )
        return self._inbound_nodes[0]

    @property
    def activation(self) -> Any:
        """The activation function applied to the output (``linear`` when none was given)."""
        return self._activation

    @activation.setter
    def activation(self, value: Any) -> None:
        from cnnkit import activations

        self._activation = activations.get(value, type(self).__name__)
        self._activation_kernel = activations.kernel_of(self._activation)

    def _activate(self, y: torch.Tensor) -> torch.Tensor:
        kernel = self._activation_kernel
        return y if kernel is None else kernel(y)

    @property
    def plain_call(self) -> bool:
        """True when calling needs no more than ``forward`` (built, no activity penalty)."""
        return self.built and self.activity_regularizer is None and not self._user_call

    def _fused_with(self, following: Layer) -> Callable[[torch.Tensor], torch.Tensor] | None:
        """A function doing this layer's and ``following``'s forward in one call, with the same
        result, for Sequential to run when ``following`` comes right after; None (the default)
        when there is none."""
        return None

    def _to_tensor(self, x: Any) -> torch.Tensor:
        if isinstance(x, np.ndarray) or isinstance(x, (list, tuple, float, int)):
            array = as_real_array(x, "inputs", self._owner())
            return torch.as_tensor(array, dtype=self.dtype, device=self._device())
        raise TypeError(
            f"{self._owner()}: inputs must be a torch.Tensor or a NumPy array. Received: {type(x).__name__}"
        )

    def _expect_rank(self, x: torch.Tensor, rank: int, layout: str) -> None:
        if x.ndim != rank:
            self._raise_rank(x, rank, layout)

    def _raise_rank(self, x: torch.Tensor, rank: int, layout: str) -> None:
        raise ValueError(
            f"{self._owner()} expects inputs of rank {rank} {layout}; "
            f"received shape {tuple(x.shape)} (rank {x.ndim})"
        )

    # ----------------------------------------------------------------- description
    def get_config(self) -> dict[str, Any]:
        """The constructor arguments that rebuild this layer (JSON-able where built in)."""
        config: dict[str, Any] = {"name": self.name, "trainable": self.trainable}
        if self.dtype != torch.float32:  # a loaded model must expect the saved weights' dtype
            config["dtype"] = str(self.dtype).removeprefix("torch.")
        if self.input_shape_hint is not None:
            config["input_shape"] = list(self.input_shape_hint)
        for parameter in inspect.signature(type(self).__init__).parameters.values():
            if parameter.name in (
                "self",
                "name",
                "trainable",
                "input_shape",
                "dtype",
            ) or parameter.kind in (
                parameter.VAR_KEYWORD,
                parameter.VAR_POSITIONAL,
            ):
                continue
            config[parameter.name] = _serializable(getattr(self, parameter.name, parameter.default))
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Layer:
        """The layer ``get_config()`` described (named initializers etc. rebuilt)."""
        from cnnkit.layers._config import decoded_arguments

        return cls(**decoded_arguments(config))

    def extra_repr(self) -> str:
        return f"name={self.name!r}"
