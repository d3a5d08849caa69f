"""Metrics by Keras name; they accumulate on the tensors' device and read out as floats."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from cnnkit._registry import Registry
from cnnkit._validation import check_int, check_number
from cnnkit._variable import Variable

__all__ = [
    "Metric",
    "Mean",
    "CategoricalAccuracy",
    "SparseCategoricalAccuracy",
    "BinaryAccuracy",
    "TopKCategoricalAccuracy",
    "SparseTopKCategoricalAccuracy",
    "Precision",
    "Recall",
    "MeanSquaredError",
    "MeanAbsoluteError",
    "get",
    "serialize",
    "deserialize",
]


class Metric:
    """A running, sample-weighted mean of per-sample values; ``result()`` reads it as a float.

    ``update`` only adds tensors (no device synchronisation), so metrics cost nothing
    measurable per batch, even on a GPU.
    """

    ranks_only = False  # True when the metric needs only the order of the scores

    def __init__(self, name: str | None = None, dtype: Any = None):
        if name is not None and (not isinstance(name, str) or not name):
            raise TypeError(
                f"{type(self).__name__}: name must be a non-empty string or None. Received: name={name!r}"
            )
        self.name = name or _snake(type(self).__name__)
        self._variables: list[Variable] = []
        if _written_for_keras(type(self)):  # its variables come after this call, in its __init__
            self._total, self._count = 0.0, 0.0
        else:
            self.reset_state()

    def reset_state(self) -> None:
        """Forget everything seen so far (called at the start of each epoch)."""
        self._total: torch.Tensor | float = 0.0
        self._count: torch.Tensor | float = 0.0
        for variable in self.__dict__.get("_variables", ()):
            variable.assign(0)

    def add_variable(
        self,
        shape: Any = (),
        initializer: Any = "zeros",
        dtype: Any = None,
        aggregation: str = "sum",
        name: str | None = None,
    ) -> Variable:
        """A state variable of a metric written for Keras (``update_state`` assigns to it)."""
        from cnnkit import initializers

        shape = (shape,) if isinstance(shape, int) else tuple(shape)
        value = initializers.get(initializer, type(self).__name__, "initializer")(shape)
        dtype = getattr(torch, dtype) if isinstance(dtype, str) else (dtype or torch.float32)
        variable = Variable.create(torch.as_tensor(value, dtype=dtype))
        self._variables.append(variable)
        return variable

    def add_weight(
        self,
        name: str | None = None,
        shape: Any = (),
        initializer: Any = "zeros",
        dtype: Any = None,
        aggregation: str = "sum",
    ) -> Variable:
        """Keras 2's name for :meth:`add_variable`."""
        return self.add_variable(shape, initializer, dtype, aggregation, name)

    @property
    def variables(self) -> list[Variable]:
        """The state variables made by ``add_variable``."""
        return list(self._variables)

    def values(self, y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
        """Per-sample values to average; subclasses define it."""
        raise NotImplementedError

    def update_state(
        self, y_true: torch.Tensor, y_pred: torch.Tensor, sample_weight: torch.Tensor | None = None
    ) -> None:
        """Add one batch."""
        values = self.values(y_true, y_pred).detach().to(torch.float32)  # no graph kept alive
        if sample_weight is None:
            self._total = self._total + values.sum()
            self._count = self._count + values.numel()
        else:
            weight = sample_weight.to(torch.float32).reshape(
                values.shape[:1] + (1,) * (values.ndim - 1)
            )
            weight = weight.expand_as(values)
            self._total = self._total + (values * weight).sum()
            self._count = self._count + weight.sum()

    def synchronize(self) -> None:
        """Sum the running totals over all training processes (under torchrun)."""
        from cnnkit import distributed

        if distributed.world().active:
            self._reduce_slots(("_total", "_count"))
            for variable in self._variables:
                variable.assign(distributed.sum_across(variable.detach().to(torch.float64)))

    def _reduce_slots(self, names: tuple[str, ...]) -> None:
        from cnnkit import distributed

        values = torch.tensor([float(getattr(self, name)) for name in names], dtype=torch.float64)
        values = distributed.sum_across(values)
        for name, value in zip(names, values.tolist()):
            setattr(self, name, value)

    def result(self) -> float:
        """The running mean as a Python float (0.0 before any update)."""
        count = float(self._count)
        return float(self._total) / count if count else 0.0

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments, so a built-in metric can be saved by name."""
        return {"name": self.name}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"


class Mean(Metric):
    """The mean of scalar values passed to ``update_state(value, count)``: the loss tracker."""

    def update_state(self, value: torch.Tensor, count: int = 1, sample_weight: Any = None) -> None:  # type: ignore[override]
        self._total = self._total + value.detach() * count
        self._count = self._count + count


class CategoricalAccuracy(Metric):
    """Fraction of samples whose highest score is the one-hot label's class."""

    ranks_only = True  # depends only on the order of the scores: logits will do

    def values(self, y_true, y_pred):
        return (y_true.argmax(dim=-1) == y_pred.argmax(dim=-1)).float()


class SparseCategoricalAccuracy(Metric):
    """Fraction of samples whose highest score is the integer label."""

    ranks_only = True  # depends only on the order of the scores: logits will do

    def values(self, y_true, y_pred):
        labels = y_true.reshape(y_pred.shape[:-1])
        return (labels.long() == y_pred.argmax(dim=-1)).float()


class BinaryAccuracy(Metric):
    """Fraction of outputs on the right side of ``threshold`` (0.5), averaged over the last axis."""

    def __init__(self, name: str | None = None, threshold: float = 0.5):
        self.threshold = check_number(threshold, "threshold", type(self).__name__)
        super().__init__(name)

    def get_config(self):
        return {"name": self.name, "threshold": self.threshold}

    def values(self, y_true, y_pred):
        matches = (
            (y_pred > self.threshold).float() == y_true.reshape(y_pred.shape).float()
        ).float()
        return matches.mean(dim=-1) if matches.ndim > 1 else matches


class TopKCategoricalAccuracy(Metric):
    """Fraction of samples whose one-hot label is among the ``k`` highest scores (k = 5)."""

    ranks_only = True  # depends only on the order of the scores: logits will do

    def __init__(self, k: int = 5, name: str | None = None):
        self.k = check_int(k, "k", type(self).__name__, minimum=1)
        super().__init__(name or "top_k_categorical_accuracy")

    def get_config(self):
        return {"k": self.k, "name": self.name}

    def values(self, y_true, y_pred):
        return _in_top_k(y_true.argmax(dim=-1), y_pred, self.k)


class SparseTopKCategoricalAccuracy(TopKCategoricalAccuracy):
    """Fraction of samples whose integer label is among the ``k`` highest scores (k = 5)."""

    def __init__(self, k: int = 5, name: str | None = None):
        super().__init__(k, name or "sparse_top_k_categorical_accuracy")

    def values(self, y_true, y_pred):
        return _in_top_k(y_true.reshape(y_pred.shape[:-1]).long(), y_pred, self.k)


def _in_top_k(labels: torch.Tensor, scores: torch.Tensor, k: int) -> torch.Tensor:
    k = min(k, scores.shape[-1])
    return (scores.topk(k, dim=-1).indices == labels.unsqueeze(-1)).any(dim=-1).float()


class _Counts(Metric):
    """Shared true/false positive counting of Precision and Recall (outputs > threshold)."""

    def __init__(self, name: str | None = None, thresholds: float = 0.5):
        self.thresholds = check_number(
            thresholds, "thresholds", type(self).__name__, minimum=0, maximum=1
        )
        super().__init__(name)

    def get_config(self):
        return {"name": self.name, "thresholds": self.thresholds}

    def reset_state(self):
        self._true_positives: torch.Tensor | float = 0.0
        self._predicted: torch.Tensor | float = 0.0
        self._actual: torch.Tensor | float = 0.0

    def synchronize(self):
        from cnnkit import distributed

        if distributed.world().active:
            self._reduce_slots(("_true_positives", "_predicted", "_actual"))

    def update_state(self, y_true, y_pred, sample_weight=None):
        predicted = (y_pred > self.thresholds).float()
        actual = y_true.reshape(y_pred.shape).float()
        self._true_positives = self._true_positives + (predicted * actual).sum()
        self._predicted = self._predicted + predicted.sum()
        self._actual = self._actual + actual.sum()


class Precision(_Counts):
    """True positives / predicted positives, for binary (or one-vs-rest one-hot) outputs."""

    def result(self):
        predicted = float(self._predicted)
        return float(self._true_positives) / predicted if predicted else 0.0


class Recall(_Counts):
    """True positives / actual positives, for binary (or one-vs-rest one-hot) outputs."""

    def result(self):
        actual = float(self._actual)
        return float(self._true_positives) / actual if actual else 0.0


class MeanSquaredError(Metric):
    """Mean of squared errors over the last axis."""

    def values(self, y_true, y_pred):
        return (
            (y_pred - y_true.reshape(y_pred.shape).to(y_pred.dtype))
            .square()
            .reshape(len(y_pred), -1)
            .mean(dim=-1)
        )


class MeanAbsoluteError(Metric):
    """Mean of absolute errors over the last axis."""

    def values(self, y_true, y_pred):
        return (
            (y_pred - y_true.reshape(y_pred.shape).to(y_pred.dtype))
            .abs()
            .reshape(len(y_pred), -1)
            .mean(dim=-1)
        )


class _FunctionMetric(Metric):
    """A user's ``fn(y_true, y_pred) -> per-sample values``."""

    def __init__(self, function: Callable, name: str):
        self.function = function
        super().__init__(name)

    def values(self, y_true, y_pred):
        return self.function(y_true, y_pred)


ACCURACY_NAMES = ("accuracy", "acc")
REGISTRY = Registry(
    "metrics",
    "metric",
    {
        "categorical_accuracy": CategoricalAccuracy,
        "sparse_categorical_accuracy": SparseCategoricalAccuracy,
        "binary_accuracy": BinaryAccuracy,
        "top_k_categorical_accuracy": TopKCategoricalAccuracy,
        "sparse_top_k_categorical_accuracy": SparseTopKCategoricalAccuracy,
        "precision": Precision,
        "recall": Recall,
        "mean_squared_error": MeanSquaredError,
        "mean_absolute_error": MeanAbsoluteError,
    },
    aliases={"mse": "mean_squared_error", "mae": "mean_absolute_error"},
    base=Metric,
    expected="a name, a Metric or a callable",
    deferred=ACCURACY_NAMES,  # which accuracy they mean is known at the first batch
)


def resolve_accuracy(loss_name: str, y_true: torch.Tensor, y_pred: torch.Tensor) -> type[Metric]:
    """Which accuracy 'accuracy' means, decided as Keras does from the loss and the shapes."""
    if y_pred.shape[-1] == 1 or loss_name == "binary_crossentropy":
        return BinaryAccuracy
    if (
        loss_name == "sparse_categorical_crossentropy"
        or y_true.ndim < y_pred.ndim
        or (y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1)
    ):
        return SparseCategoricalAccuracy
    return CategoricalAccuracy


def get(identifier: str | Metric | Callable) -> Metric | str:
    """Resolve a metric name, Metric or callable. 'accuracy'/'acc' stay strings until the first
    batch shows which accuracy they mean."""
    if identifier in REGISTRY:  # named after what the user typed, as Keras does
        return REGISTRY.create(identifier, {"name": identifier})
    if callable(identifier) and not isinstance(identifier, Metric):
        return _FunctionMetric(identifier, getattr(identifier, "__name__", "metric"))
    return REGISTRY.get(identifier, "compile")


def serialize(metric: Metric | str) -> dict[str, Any] | str:
    """Name and config of a built-in metric ('accuracy'/'acc' stay names)."""
    return REGISTRY.serialize(metric)


def deserialize(config: dict[str, Any] | str) -> Metric | str:
    """Rebuild a built-in metric from :func:`serialize`'s output."""
    return REGISTRY.deserialize(config)


def _written_for_keras(cls: type) -> bool:
    """A user's metric that keeps its own state (``update_state`` defined outside cnnkit)."""
    return cls.update_state.__module__ != __name__


def _snake(name: str) -> str:
    import re

    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()
