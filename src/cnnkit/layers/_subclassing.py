"""What a Keras user's own layer uses: ``build`` + ``call``, ``self.add_weight(shape=...)``,
``self.add_loss(...)``, weights in creation order, output shapes found by running ``call``.

Built-in cnnkit layers write ``forward`` and keep their weights in PyTorch's layouts; a user's
layer written for Keras keeps its weights as created (Keras' layout is the user's layout).
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from cnnkit import constraints as constraints_module
from cnnkit import initializers as initializers_module
from cnnkit import regularizers as regularizers_module
from cnnkit._variable import Variable


@dataclass(eq=False)
class AddedWeight:
    """A weight made by ``add_weight``, with its penalty and projection."""

    tensor: torch.Tensor
    trainable: bool
    regularizer: Any = None
    constraint: Any = None


def _has_training_argument(cls: type) -> bool:
    return "training" in inspect.signature(cls.call).parameters


class SubclassingAPI:
    """Keras' layer-writing methods, mixed into ``cnnkit.layers.Layer``."""

    def add_weight(
        self,
        *args: Any,
        shape: Any = None,
        initializer: Any = None,
        dtype: Any = None,
        trainable: bool = True,
        regularizer: Any = None,
        constraint: Any = None,
        name: str | None = None,
        **ignored: Any,
    ) -> torch.Tensor:
        """Create a weight of ``shape`` (Keras' signature): a trainable ``nn.Parameter`` or,
        with ``trainable=False``, a buffer with ``assign``/``assign_add``/``assign_sub``.
        Assign it to an attribute (``self.w = ...``)."""
        shape, initializer, dtype = _positional(self, args, shape, initializer, dtype)
        shape = _check_shape(self, shape)
        owner = type(self).__name__
        initializer = initializers_module.get(initializer or "glorot_uniform", owner, "initializer")
        added = self.__dict__.setdefault("_added_weights", [])
        key = f"added_weight_{len(added)}"  # renamed to the attribute it is assigned to
        if dtype is not None:
            from cnnkit.layers._arguments import _resolve_dtype

            saved, self.dtype = self.dtype, _resolve_dtype(dtype, owner)
            try:
                tensor = self._create_weight(key, shape, initializer, None, trainable)
            finally:
                self.dtype = saved
        else:
            tensor = self._create_weight(key, shape, initializer, None, trainable)
        if not trainable:  # state kept with Keras' tensor.assign_add(...) (a running sum)
            tensor = self._buffers[key] = Variable.create(tensor)
        self.__dict__.setdefault("_added_keys", {})[id(tensor)] = key
        added.append(
            AddedWeight(
                tensor,
                trainable,
                regularizers_module.get(regularizer, owner, "regularizer"),
                constraints_module.get(constraint, owner, "constraint"),
            )
        )
        return tensor

    def __setattr__(self, name: str, value: Any) -> None:
        keys = self.__dict__.get("_added_keys")
        if keys and isinstance(value, torch.Tensor) and id(value) in keys:
            key = keys.pop(id(value))  # the weight takes the attribute's name in state_dict
            if key in self._buffers:
                del self._buffers[key]
                self.register_buffer(name, value)
                return
            self._parameters.pop(key, None)
        nn.Module.__setattr__(self, name, value)

    def add_loss(self, loss: Any) -> None:
        """Add a scalar (e.g. an activity penalty) to the training loss, from ``call``."""
        if not isinstance(loss, torch.Tensor):
            loss = torch.as_tensor(loss, dtype=torch.float32)
        self.__dict__.setdefault("_call_losses", []).append(loss)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """A Keras-style layer computes in ``call(inputs[, training])``."""
        call = getattr(type(self), "call", None)
        if call is None:
            raise NotImplementedError(
                f"{self._owner()}: a layer computes its output in call(self, inputs) (Keras) or "
                "forward(self, x) (PyTorch); define one of them"
            )
        if "training" not in kwargs and _has_training_argument(type(self)):
            kwargs["training"] = self.training
        return call(self, *args, **kwargs)

    @property
    def _user_call(self) -> bool:
        """True for a layer written Keras' way (it defines ``call``, not ``forward``)."""
        return getattr(type(self), "call", None) is not None

    def _probe_output_shape(self, input_shape: Any) -> Any:
        """The output shape of ``call`` found by running it on zeros (batch of 1, inference
        mode, losses it adds dropped), as Keras traces a layer without compute_output_shape."""
        shapes = input_shape if isinstance(input_shape, list) else [input_shape]
        if any(size is None for shape in shapes for size in shape[1:]):
            raise ValueError(
                f"{self._owner()}: cannot infer the output shape of call() for inputs of shape "
                f"{input_shape} (an axis of unknown size); define compute_output_shape()"
            )
        zeros = [
            torch.zeros((1, *shape[1:]), dtype=self.dtype, device=self._device())
            for shape in shapes
        ]
        was_training = self.training
        self.eval()
        try:
            with torch.no_grad():
                output = nn.Module.__call__(
                    self, zeros if isinstance(input_shape, list) else zeros[0]
                )
        finally:
            self.train(was_training)
            self.__dict__.pop("_call_losses", None)
        if isinstance(output, (list, tuple)):
            return [(None, *o.shape[1:]) for o in output]
        return (None, *output.shape[1:])

    def _added_keras_weights(self) -> list[torch.Tensor]:
        """Weights from ``add_weight`` (trainable first, as Keras lists them) and those of
        layers held as attributes."""
        added = self.__dict__.get("_added_weights", [])
        own = [w.tensor for w in added if w.trainable] + [
            w.tensor for w in added if not w.trainable
        ]
        for child in self.children():
            if hasattr(child, "keras_weights"):
                own += child.keras_weights()
        return own

    def _added_losses(self) -> list[torch.Tensor]:
        """``add_loss`` values of the last call, weight penalties and sublayers' losses."""
        losses = list(self.__dict__.get("_call_losses", []))
        for weight in self.__dict__.get("_added_weights", []):
            if weight.regularizer is not None:
                losses.append(weight.regularizer(weight.tensor))
        for child in self.children():
            if hasattr(child, "losses") and hasattr(child, "_owner"):
                losses += child.losses
        return losses

    def _apply_added_constraints(self) -> None:
        with torch.no_grad():
            for weight in self.__dict__.get("_added_weights", []):
                if weight.constraint is not None:
                    weight.tensor.copy_(weight.constraint(weight.tensor))
        for child in self.children():
            if hasattr(child, "apply_constraints"):
                child.apply_constraints()


def _positional(layer: Any, args: tuple, shape: Any, initializer: Any, dtype: Any) -> tuple:
    """Keras 2's positional ``add_weight(shape, initializer, dtype)``; a name must be a keyword."""
    if len(args) > 3:
        raise TypeError(f"{layer._owner()}: add_weight takes at most 3 positional arguments")
    if args and isinstance(args[0], str):
        raise ValueError(
            f"{layer._owner()}: add_weight's name must be a keyword argument. Received: "
            f"add_weight({args[0]!r}, ...); use add_weight(shape=..., name={args[0]!r})"
        )
    given = list(args) + [None] * (3 - len(args))
    return (
        shape if shape is not None else given[0],
        initializer if initializer is not None else given[1],
        dtype if dtype is not None else given[2],
    )


def _check_shape(layer: Any, shape: Any) -> tuple[int, ...]:
    if shape is None:
        return ()
    if isinstance(shape, int) and not isinstance(shape, bool):
        shape = (shape,)
    if not isinstance(shape, (tuple, list, torch.Size)) or not all(
        isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in shape
    ):
        raise ValueError(
            f"{layer._owner()}: add_weight's shape must be a tuple of non-negative ints (no "
            f"None). Received: shape={shape!r}"
        )
    return tuple(int(s) for s in shape)
