"""A layer's weights the Keras way: lists of NumPy arrays in Keras' layouts and order, the
trainable/non-trainable split, parameter counts, regularization penalties and constraints."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch


class KerasWeights:
    """The weight methods every Layer has (``get_weights``, ``set_weights``, ``losses``, ...)."""

    def keras_weights(self) -> list[torch.Tensor]:
        """Views of this layer's weights in Keras' layouts and order (kernel, bias, ...)."""
        return self._added_keras_weights()

    def get_weights(self) -> list[np.ndarray]:
        """Return the weights as NumPy arrays in Keras' layouts (conv kernel (kh, kw, in, out))."""
        return [w.detach().cpu().numpy().copy() for w in self.keras_weights()]

    def set_weights(self, weights: Sequence[Any]) -> None:
        """Load weights given in Keras' layouts and order, e.g. from ``keras_layer.get_weights()``."""
        weights = check_weight_list(weights, f"{self._owner()}: set_weights")
        targets = self.keras_weights()
        if len(weights) != len(targets):
            raise ValueError(
                f"{self._owner()}: set_weights expects {len(targets)} arrays "
                f"(shapes {[tuple(t.shape) for t in targets]}); received {len(weights)}"
            )
        values = []
        for index, (target, weight) in enumerate(zip(targets, weights)):
            array = as_real_array(weight, f"weights[{index}]", f"{self._owner()}: set_weights")
            if tuple(array.shape) != tuple(target.shape):
                raise ValueError(
                    f"{self._owner()}: weight {index} must have shape {tuple(target.shape)}; "
                    f"received {tuple(array.shape)}"
                )
            if not np.isfinite(array).all():
                raise ValueError(
                    f"{self._owner()}: set_weights: weights[{index}] contains NaN or infinite values"
                )
            values.append(array)
        with torch.no_grad():  # every array checked first: a bad one leaves the layer unchanged
            for target, array in zip(targets, values):
                target.copy_(torch.as_tensor(array, dtype=target.dtype))

    @property
    def weights(self) -> list[torch.Tensor]:
        """Every weight (trainable first), as the stored PyTorch tensors."""
        return self.trainable_weights + self.non_trainable_weights

    @property
    def trainable_weights(self) -> list[torch.Tensor]:
        """Weights the optimizer updates."""
        return [p for p in self.parameters() if p.requires_grad]

    @property
    def non_trainable_weights(self) -> list[torch.Tensor]:
        """Frozen parameters and statistics such as BatchNormalization's moving mean."""
        frozen = [p for p in self.parameters() if not p.requires_grad]
        return frozen + [b for b in self.buffers() if b.is_floating_point()]

    def count_params(self) -> int:
        """Number of scalars in all weights, trainable or not, as Keras counts them."""
        return sum(int(w.numel()) for w in self.weights)

    @property
    def trainable(self) -> bool:
        """Whether the optimizer may change this layer's weights (Keras' ``layer.trainable``)."""
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        self._trainable = bool(value)
        for parameter in self.parameters():
            parameter.requires_grad_(self._trainable)

    # ----------------------------------------------------------------- penalties, constraints
    @property
    def losses(self) -> list[torch.Tensor]:
        """Regularization penalties: weight penalties now, activity penalty of the last call."""
        penalties = []
        for attribute, regularizer in self._weight_regularizers():
            weight = getattr(self, attribute, None)
            if regularizer is not None and weight is not None:
                penalties.append(regularizer(self._keras_view(attribute)))
        if self._activity_penalty is not None:
            penalties.append(self._activity_penalty)
        return penalties + self._added_losses()

    def apply_constraints(self) -> None:
        """Project weights onto their constraints; the training loop calls this after each step."""
        with torch.no_grad():
            for attribute, constraint in self._weight_constraints():
                if constraint is not None and getattr(self, attribute, None) is not None:
                    view = self._keras_view(attribute)
                    view.copy_(constraint(view))
        self._apply_added_constraints()

    def _weight_regularizers(self) -> list[tuple[str, Any]]:
        return []

    def _weight_constraints(self) -> list[tuple[str, Any]]:
        return []

    def _keras_view(self, attribute: str) -> torch.Tensor:
        return getattr(self, attribute)


def check_weight_list(weights: Any, what: str) -> list[Any]:
    """Return ``weights`` as a list, or raise a TypeError when it is not a list of arrays."""
    if isinstance(weights, (str, bytes, np.ndarray, torch.Tensor)) or not isinstance(
        weights, Sequence
    ):
        raise TypeError(
            f"{what}: weights must be a list of NumPy arrays (as get_weights() returns). "
            f"Received: weights of type {type(weights).__name__}"
        )
    return list(weights)


def as_real_array(value: Any, name: str, owner: str) -> np.ndarray:
    """Return ``value`` as a NumPy array of real numbers (bool, int or float), else raise.

    Raises:
        TypeError: ragged nested lists, strings, objects or complex numbers.
    """
    if isinstance(value, torch.Tensor):
        tensor = value.detach().cpu()
        if tensor.dtype in (torch.bfloat16,):  # NumPy has no bfloat16
            tensor = tensor.float()
        value = tensor.numpy()
    try:
        array = np.asarray(value)
    except (TypeError, ValueError) as error:  # ragged lists and other oddities
        raise TypeError(
            f"{owner}: {name} must be a NumPy array or tensor of numbers; could not convert "
            f"{type(value).__name__}: {error}"
        ) from None
    if array.dtype.kind not in "biuf":
        raise TypeError(
            f"{owner}: {name} must hold real numbers (bool, int or float). "
            f"Received: an array of dtype {array.dtype}"
        )
    return array
