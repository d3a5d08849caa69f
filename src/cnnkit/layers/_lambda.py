"""Lambda and Identity: layers that run a given Python function, or nothing, on their input.

A Lambda's function lives only in memory: a model file holds names and numbers, never code
(loading must not run anything from a file), so a model with a Lambda cannot be saved."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any

import torch

from cnnkit.layers._base import Layer


class Lambda(Layer):
    """Wrap ``function(inputs, **arguments)`` as a layer, for quick stateless operations
    (``Lambda(lambda x: x ** 2)``) inside Sequential or functional models.

    The output shape is found by running the function on zeros unless ``output_shape`` gives
    it (a tuple without the batch axis, or a function of the input shape). A function with a
    ``training`` parameter gets the mode. The function is kept as is: ``get_config()`` (and so
    ``clone_model``) works in memory, but ``model.save``/``to_json`` raise a ValueError, since a
    file cannot hold code; write a Layer subclass with ``get_config`` to save it.

    Example:
        >>> Lambda(lambda x: x[:, :2] * 2).build_for((None, 5))
        (None, 2)
    """

    unsaveable = (
        "holds a Python function, which a file cannot store (a cnnkit file holds no code, so "
        "loading never runs any). Replace the Lambda with a Layer subclass that has a "
        "get_config() and register it with @cnnkit.saving.register_serializable(), or save "
        "only the weights with model.save_weights(path)"
    )

    def __init__(
        self,
        function: Callable[..., Any],
        output_shape: Sequence[int | None] | Callable[..., Any] | None = None,
        mask: Any = None,
        arguments: dict[str, Any] | None = None,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        owner = type(self).__name__
        if not callable(function):
            raise TypeError(
                f"{owner}: function must be callable (a function or lambda taking the input "
                f"tensor). Received: function={function!r:.100}"
            )
        if not (output_shape is None or callable(output_shape) or _is_shape(output_shape)):
            raise TypeError(
                f"{owner}: output_shape must be None, a tuple of sizes without the batch axis, "
                f"or a function of the input shape. Received: output_shape={output_shape!r:.100}"
            )
        if mask is not None:
            raise ValueError(f"{owner}: masks are not supported; pass mask=None")
        if arguments is not None and not isinstance(arguments, dict):
            raise TypeError(
                f"{owner}: arguments must be a dict of keyword arguments for the function. "
                f"Received: arguments={arguments!r:.100}"
            )
        self.function, self.output_shape_argument = function, output_shape
        self.mask, self.arguments = None, dict(arguments or {})
        try:
            parameters = inspect.signature(function).parameters
        except (TypeError, ValueError):  # some built-ins have no signature
            parameters = {}
        self._takes_training = "training" in parameters

    def compute_output_shape(self, input_shape):
        given = self.output_shape_argument
        if given is None:
            return self._probe_output_shape(input_shape)
        if callable(given):
            return given(input_shape)
        first = input_shape[0] if isinstance(input_shape, list) else input_shape
        return (first[0], *given)

    def call(self, inputs: Any, training: bool | None = None) -> Any:
        """Run the function (with ``training`` when it takes it)."""
        extra = dict(self.arguments)
        if self._takes_training:
            extra["training"] = training
        return self.function(inputs, **extra)

    def get_config(self) -> dict[str, Any]:
        """The constructor's arguments, the function itself included (in memory only)."""
        config: dict[str, Any] = {"name": self.name, "trainable": self.trainable}
        if self.dtype != torch.float32:
            config["dtype"] = str(self.dtype).removeprefix("torch.")
        if self.input_shape_hint is not None:
            config["input_shape"] = list(self.input_shape_hint)
        given = self.output_shape_argument
        config.update(
            function=self.function,
            output_shape=list(given) if _is_shape(given) else given,
            mask=None,
            arguments=dict(self.arguments),
        )
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Lambda:
        """The Lambda ``get_config()`` described (the function given back as it was)."""
        return cls(**config)

    def extra_repr(self):
        name = getattr(self.function, "__name__", type(self.function).__name__)
        return f"name={self.name!r}, function={name}"


def _is_shape(value: Any) -> bool:
    return (
        isinstance(value, Sequence)
        and not isinstance(value, str)
        and all(v is None or (isinstance(v, int) and not isinstance(v, bool)) for v in value)
    )


class Identity(Layer):
    """Return the input unchanged: a placeholder where a model's structure expects a layer
    (a switched-off block, a residual branch with nothing in it).

    Example:
        >>> Identity().build_for((None, 4, 4, 3))
        (None, 4, 4, 3)
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x
