"""Loss functions by Keras name, with Keras' handling of probabilities versus logits."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F

from cnnkit._registry import Registry
from cnnkit._validation import check_int, check_number
from cnnkit.backend import epsilon as _epsilon

__all__ = [
    "Loss",
    "CategoricalCrossentropy",
    "SparseCategoricalCrossentropy",
    "BinaryCrossentropy",
    "MeanSquaredError",
    "MeanAbsoluteError",
    "categorical_crossentropy",
    "sparse_categorical_crossentropy",
    "binary_crossentropy",
    "mean_squared_error",
    "mean_absolute_error",
    "get",
    "serialize",
    "deserialize",
]

EPSILON = (
    1e-7  # the default of cnnkit.backend.epsilon(): probabilities are clipped to [eps, 1 - eps]
)


def _clip(probabilities: torch.Tensor) -> torch.Tensor:
    """Probabilities clipped to [eps, 1 - eps] before the log, as Keras (eps: backend.epsilon())."""
    eps = _epsilon()
    return probabilities.clamp(eps, 1 - eps)


def categorical_crossentropy(
    y_true: torch.Tensor,
    y_pred: torch.Tensor,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
) -> torch.Tensor:
    """Per-sample cross-entropy between one-hot ``y_true`` and predicted class scores.

    Shapes: y_true and y_pred (batch, classes) -> (batch,).
    """
    y_true = y_true.to(y_pred.dtype)
    if label_smoothing:
        y_true = y_true * (1 - label_smoothing) + label_smoothing / y_pred.shape[-1]
    if from_logits:
        return -(y_true * F.log_softmax(y_pred, dim=-1)).sum(dim=-1)
    probabilities = y_pred / y_pred.sum(dim=-1, keepdim=True)
    return -(y_true * _clip(probabilities).log()).sum(dim=-1)


def sparse_categorical_crossentropy(
    y_true: torch.Tensor,
    y_pred: torch.Tensor,
    from_logits: bool = False,
    ignore_class: int | None = None,
    label_smoothing: float = 0.0,
) -> torch.Tensor:
    """Per-sample cross-entropy between integer labels (batch,) and class scores (batch, classes).

    ``label_smoothing`` ε gives the loss of the one-hot label mixed with the uniform one,
    (1 - ε) * one_hot + ε / classes, as ``categorical_crossentropy`` and PyTorch's
    ``cross_entropy`` do.
    """
    labels = y_true.reshape(y_pred.shape[:-1]).long()
    if from_logits:
        log_probabilities = F.log_softmax(y_pred, dim=-1)
    else:
        probabilities = y_pred / y_pred.sum(dim=-1, keepdim=True)
        log_probabilities = _clip(probabilities).log()
    picked = -log_probabilities.gather(-1, labels.clamp_min(0).unsqueeze(-1)).squeeze(-1)
    if label_smoothing:
        uniform = -log_probabilities.mean(dim=-1)
        picked = (1 - label_smoothing) * picked + label_smoothing * uniform
    if ignore_class is None:
        return picked
    return picked * (labels != ignore_class)


def binary_crossentropy(
    y_true: torch.Tensor,
    y_pred: torch.Tensor,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
) -> torch.Tensor:
    """Per-sample binary cross-entropy, averaged over the last axis as Keras does."""
    y_true = y_true.to(y_pred.dtype).reshape(y_pred.shape)
    if label_smoothing:
        y_true = y_true * (1 - label_smoothing) + 0.5 * label_smoothing
    if from_logits:
        elementwise = F.binary_cross_entropy_with_logits(y_pred, y_true, reduction="none")
    else:
        p = _clip(y_pred)
        elementwise = -(y_true * p.log() + (1 - y_true) * (1 - p).log())
    return elementwise.mean(dim=-1) if elementwise.ndim > 1 else elementwise


def mean_squared_error(y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
    """Per-sample mean of squared differences over the last axis."""
    difference = y_pred - y_true.to(y_pred.dtype).reshape(y_pred.shape)
    return difference.square().mean(dim=-1) if y_pred.ndim > 1 else difference.square()


def mean_absolute_error(y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
    """Per-sample mean of absolute differences over the last axis."""
    difference = y_pred - y_true.to(y_pred.dtype).reshape(y_pred.shape)
    return difference.abs().mean(dim=-1) if y_pred.ndim > 1 else difference.abs()


_REDUCTIONS = ("sum_over_batch_size", "sum", "mean", "none", None)


class Loss:
    """A loss object: ``loss(y_true, y_pred, sample_weight=None)`` -> scalar (mean over the batch).

    Subclasses name a per-sample function; the reduction is Keras' "sum over batch size".
    """

    name = "loss"
    expects = "any"  # 'one_hot', 'sparse', 'binary' or 'any': used to check labels early

    def __init__(
        self,
        from_logits: bool = False,
        *,
        name: str | None = None,
        reduction: str | None = "sum_over_batch_size",
        dtype: Any = None,
        **options: Any,
    ):
        self.from_logits = bool(from_logits)
        self.options = options
        if name is not None:
            self.name = name
        if reduction not in _REDUCTIONS:
            raise ValueError(
                f"{type(self).__name__}: reduction must be one of {list(_REDUCTIONS)}. "
                f"Received: reduction={reduction!r}"
            )
        self.reduction = reduction

    def per_sample(self, y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
        """Per-sample losses; a loss written for Keras computes them in ``call``."""
        call = getattr(type(self), "call", None)
        if call is None:
            raise NotImplementedError(
                f"{type(self).__name__}: a loss computes per-sample values in "
                "call(self, y_true, y_pred)"
            )
        return call(self, y_true, y_pred)

    def __call__(
        self, y_true: torch.Tensor, y_pred: torch.Tensor, sample_weight: torch.Tensor | None = None
    ) -> torch.Tensor:
        if y_true.shape[:1] != y_pred.shape[:1] or not self._shapes_fit(y_true, y_pred):
            self._raise_shapes(y_true, y_pred)
        values = self.per_sample(y_true, y_pred)
        if sample_weight is not None:
            values = values * sample_weight.to(values.dtype).reshape(
                values.shape[:1] + (1,) * (values.ndim - 1)
            )
        if self.reduction in ("none", None):
            return values
        if self.reduction == "sum":
            return values.sum()
        return values.sum() / max(values.numel(), 1)

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments, for saving a compiled model as JSON."""
        return {"from_logits": self.from_logits, **self.options}

    def _shapes_fit(self, y_true: torch.Tensor, y_pred: torch.Tensor) -> bool:
        """Whether ``y_true`` can be compared with ``y_pred`` (default: one value per output;
        a loss written with ``call`` decides for itself)."""
        return getattr(type(self), "call", None) is not None or y_true.numel() == y_pred.numel()

    def _raise_shapes(self, y_true: torch.Tensor, y_pred: torch.Tensor) -> None:
        raise ValueError(
            f"{type(self).__name__}: y_true of shape {tuple(y_true.shape)} does not fit y_pred of "
            f"shape {tuple(y_pred.shape)}; {self._expected_labels(y_pred)}"
        )

    def _expected_labels(self, y_pred: torch.Tensor) -> str:
        return f"y_true needs shape {tuple(y_pred.shape)}"


class CategoricalCrossentropy(Loss):
    """Cross-entropy for one-hot labels (``to_categorical``), the lecture's choice."""

    name, expects = "categorical_crossentropy", "one_hot"

    def __init__(self, from_logits: bool = False, label_smoothing: float = 0.0):
        super().__init__(from_logits, label_smoothing=_smoothing(label_smoothing, self))

    def _shapes_fit(self, y_true, y_pred):
        return y_true.shape == y_pred.shape

    def _expected_labels(self, y_pred):
        return f"one-hot labels of shape {tuple(y_pred.shape)} are needed (to_categorical)"

    def per_sample(self, y_true, y_pred):
        return categorical_crossentropy(
            y_true, y_pred, self.from_logits, self.options["label_smoothing"]
        )


class SparseCategoricalCrossentropy(Loss):
    """Cross-entropy for integer class labels.

    ``label_smoothing`` goes beyond Keras, whose sparse loss lacks it: the same smoothing as
    :class:`CategoricalCrossentropy` on the labels' one-hot form (and PyTorch's
    ``CrossEntropyLoss``), without building that form.
    """

    name, expects = "sparse_categorical_crossentropy", "sparse"

    def __init__(
        self,
        from_logits: bool = False,
        ignore_class: int | None = None,
        label_smoothing: float = 0.0,
    ):
        ignore_class = check_int(ignore_class, "ignore_class", type(self).__name__, optional=True)
        options: dict[str, Any] = {"ignore_class": ignore_class}
        if label_smoothing != 0.0:  # kept out of the config when off, so Keras can read it
            options["label_smoothing"] = _smoothing(label_smoothing, self)
        super().__init__(from_logits, **options)

    def _shapes_fit(self, y_true, y_pred):
        return y_pred.ndim >= 1 and y_true.numel() == y_pred[..., 0].numel()

    def _expected_labels(self, y_pred):
        return f"integer labels of shape {tuple(y_pred.shape[:-1])} are needed"

    def per_sample(self, y_true, y_pred):
        return sparse_categorical_crossentropy(
            y_true,
            y_pred,
            self.from_logits,
            self.options["ignore_class"],
            self.options.get("label_smoothing", 0.0),
        )


class BinaryCrossentropy(Loss):
    """Cross-entropy for 0/1 labels and sigmoid outputs."""

    name, expects = "binary_crossentropy", "binary"

    def __init__(self, from_logits: bool = False, label_smoothing: float = 0.0):
        super().__init__(from_logits, label_smoothing=_smoothing(label_smoothing, self))

    def per_sample(self, y_true, y_pred):
        return binary_crossentropy(
            y_true, y_pred, self.from_logits, self.options["label_smoothing"]
        )


class MeanSquaredError(Loss):
    """Mean of squared errors."""

    name = "mean_squared_error"

    def __init__(self):
        super().__init__(False)

    def per_sample(self, y_true, y_pred):
        return mean_squared_error(y_true, y_pred)

    def get_config(self):
        return {}


class MeanAbsoluteError(Loss):
    """Mean of absolute errors."""

    name = "mean_absolute_error"

    def __init__(self):
        super().__init__(False)

    def per_sample(self, y_true, y_pred):
        return mean_absolute_error(y_true, y_pred)

    def get_config(self):
        return {}


def _smoothing(value: Any, loss: Loss) -> float:
    return check_number(value, "label_smoothing", type(loss).__name__, minimum=0, maximum=1)


class _FunctionLoss(Loss):
    """A user's ``fn(y_true, y_pred) -> per-sample losses`` (or a scalar)."""

    def __init__(self, function: Callable):
        super().__init__(False)
        self.function = function
        self.name = getattr(function, "__name__", "loss")

    def _shapes_fit(self, y_true, y_pred):
        return True  # a user's function decides what it accepts

    def per_sample(self, y_true, y_pred):
        return self.function(y_true, y_pred)


REGISTRY = Registry(
    "losses",
    "loss",
    {
        "categorical_crossentropy": CategoricalCrossentropy,
        "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
        "binary_crossentropy": BinaryCrossentropy,
        "mean_squared_error": MeanSquaredError,
        "mean_absolute_error": MeanAbsoluteError,
    },
    aliases={"mse": "mean_squared_error", "mae": "mean_absolute_error"},
    base=Loss,
    expected="a name, a Loss or a callable",
)
_FUNCTIONS = {
    categorical_crossentropy: CategoricalCrossentropy,
    sparse_categorical_crossentropy: SparseCategoricalCrossentropy,
    binary_crossentropy: BinaryCrossentropy,
    mean_squared_error: MeanSquaredError,
    mean_absolute_error: MeanAbsoluteError,
}


def get(identifier: str | Loss | Callable) -> Loss:
    """Resolve a Keras loss name, a Loss object or a callable ``(y_true, y_pred)``."""
    if callable(identifier) and not isinstance(identifier, Loss):
        if identifier in _FUNCTIONS:
            return _FUNCTIONS[identifier]()
        return _FunctionLoss(identifier)
    return REGISTRY.get(identifier, "compile")


def serialize(loss: Loss) -> dict[str, Any]:
    """Name and config of a built-in loss (for saving a compiled model)."""
    return REGISTRY.serialize(loss)


def deserialize(config: dict[str, Any]) -> Loss:
    """Rebuild a built-in loss from :func:`serialize`'s output."""
    return REGISTRY.deserialize(config)
