"""Keras' step methods, for models with several inputs or outputs and for users who override
them: ``train_step(data)``, ``test_step``, ``predict_step``, ``compute_loss``,
``compute_metrics``, ``metrics``, and the one-batch calls ``train_on_batch``,
``test_on_batch`` and ``predict_on_batch``."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from cnnkit import metrics as metrics_module
from cnnkit.training._structured_data import adapt_structured
from cnnkit.training._structures import (
    CompiledOutputs,
    flat_outputs,
    keras_order,
    match,
)


class CompileMetrics:
    """The compiled metrics of every output as one entry of ``model.metrics`` (named
    ``compile_metrics``, as in Keras): ``update_state(y, y_pred)`` updates them all and
    ``result()`` is a dict that also holds the outputs' losses."""

    name = "compile_metrics"

    def __init__(self, compiled: CompiledOutputs):
        self.compiled = compiled
        self._trackers: list[list[tuple[str, Any]]] | None = None

    def _build(self, ys: list[Any], preds: list[torch.Tensor]) -> list[list[tuple[str, Any]]]:
        """The metric objects; 'accuracy' is resolved from each output's loss and shapes."""
        compiled, trackers = self.compiled, []
        for loss, specs, y, pred in zip(compiled.losses, compiled.metric_specs, ys, preds):
            group = []
            for spec, name in zip(specs, _names_of(compiled, specs, len(trackers))):
                if isinstance(spec, str):
                    loss_name = getattr(loss, "name", "")
                    probe = y if y is not None else pred
                    spec = metrics_module.resolve_accuracy(loss_name, probe, pred)(name=name)
                group.append((name, spec))
            trackers.append(group)
        return trackers

    def update_state(self, y: Any, y_pred: Any, sample_weight: Any = None) -> None:
        """Add one batch: ``y`` and ``y_pred`` as the model's outputs (a list or a dict)."""
        names = self.compiled.names
        ys = match(y, names, "compute_metrics", "y", optional=True)
        preds = [p.detach().float() for p in _flat(y_pred, names)]
        if self._trackers is None:
            self._trackers = self._build(ys, preds)
        for group, target, pred in zip(self._trackers, ys, preds):
            if target is None:
                continue
            for _, tracker in group:
                tracker.update_state(target, pred, sample_weight)

    def reset_state(self) -> None:
        for tracker in self.compiled.loss_trackers:
            tracker.reset_state()
        for group in self._trackers or []:
            for _, tracker in group:
                tracker.reset_state()

    def result(self) -> dict[str, float]:
        logs = {t.name: t.result() for t in self.compiled.loss_trackers}
        for group in self._trackers or []:
            logs.update({name: float(tracker.result()) for name, tracker in group})
        return logs

    def names(self) -> list[str]:
        return [t.name for t in self.compiled.loss_trackers] + self.compiled.metric_names()


def _names_of(compiled: CompiledOutputs, specs: list[Any], output: int) -> list[str]:
    return [compiled._metric_name(compiled.names[output], spec) for spec in specs]


def _flat(values: Any, names: list[str]) -> list[Any]:
    if isinstance(values, dict):
        return [values.get(name) for name in names]
    if isinstance(values, (list, tuple)):
        return list(values)
    return [values]


def unpack_data(data: Any) -> tuple[Any, Any, Any]:
    """Keras' ``(x, y, sample_weight)`` from a batch: a tuple of one to three items."""
    if not isinstance(data, tuple):
        return data, None, None
    x, y, weight = (*data, None, None)[:3]
    return x, y, weight


def python_logs(logs: Any) -> dict[str, float]:
    """A step's returned dict as floats; nested dicts (``compile_metrics``) are flattened."""
    if not isinstance(logs, dict):
        raise TypeError(
            f"train_step/test_step must return a dict of metric values; received {type(logs).__name__}"
        )
    flat: dict[str, float] = {}
    for name, value in logs.items():
        if isinstance(value, dict):
            flat.update(python_logs(value))
        else:
            flat[name] = float(value.detach() if isinstance(value, torch.Tensor) else value)
    return flat


def _samples(x: Any) -> int:
    first = x
    while isinstance(first, (list, tuple, dict)):
        first = next(iter(first.values())) if isinstance(first, dict) else first[0]
    return int(first.shape[0])


class KerasSteps:
    """What Keras' ``Model`` offers around one step; mixed into Trainer."""

    def _compile_outputs(self, loss: Any, loss_weights: Any, metrics: Any) -> None:
        """Keep per-output losses and metrics, and the trackers that ``metrics`` lists."""
        self._outputs_spec = CompiledOutputs(self, loss, loss_weights, metrics)
        self._loss_tracker = metrics_module.Mean(name="loss")
        self._compile_metrics = CompileMetrics(self._outputs_spec)

    @property
    def metrics(self) -> list[Any]:
        """The loss tracker, the compiled metrics and Metric objects held as attributes."""
        found: list[Any] = []
        if getattr(self, "compiled", False) and "_loss_tracker" in self.__dict__:
            found += [self._loss_tracker, self._compile_metrics]
        for value in self.__dict__.values():
            if isinstance(value, metrics_module.Metric) and all(value is not m for m in found):
                found.append(value)
        return found

    @property
    def metrics_names(self) -> list[str]:
        """The names of the values ``evaluate`` and ``train_on_batch`` return, in order."""
        names: list[str] = []
        for metric in self.metrics:
            names += metric.names() if isinstance(metric, CompileMetrics) else [metric.name]
        if "_outputs_spec" not in self.__dict__:
            return names
        losses = [t.name for t in self._outputs_spec.loss_trackers]
        return list(keras_order(dict(zip(names, names)), losses))

    def reset_metrics(self) -> None:
        """Forget what every metric has seen (fit does it at the start of each epoch)."""
        for metric in self.metrics:
            metric.reset_state()

    def compute_loss(
        self,
        x: Any = None,
        y: Any = None,
        y_pred: Any = None,
        sample_weight: Any = None,
        training: bool = True,
    ) -> torch.Tensor:
        """The total loss: the compiled losses (weighted by ``loss_weights``) plus the losses
        the model added (``add_loss``, regularizers)."""
        spec = self.__dict__.get("_outputs_spec")
        total = None
        if spec is not None and spec.has_loss():
            ys = match(y, spec.names, "compute_loss", "y", optional=True) if y is not None else None
            if ys is None:
                raise ValueError(
                    "compute_loss: y is required; the model was compiled with a loss for "
                    f"its outputs {spec.names}"
                )
            total = spec.total(ys, flat_outputs(self, y_pred), sample_weight)
        added = self.losses
        if added:
            extra = torch.stack([torch.as_tensor(v).float().reshape(()) for v in added]).sum()
            total = extra if total is None else total + extra
        if total is None:
            raise ValueError(
                "compute_loss: there is no loss to compute: the model was compiled without "
                "one (compile(loss=...)) and adds none with add_loss"
            )
        return total

    def compute_metrics(
        self, x: Any, y: Any, y_pred: Any, sample_weight: Any = None
    ) -> dict[str, float]:
        """Update the compiled metrics with one batch; return every metric's result."""
        if "_compile_metrics" in self.__dict__ and y is not None:
            self._compile_metrics.update_state(y, y_pred, sample_weight)
        return self.get_metrics_result()

    @property
    def compiled_metrics(self) -> CompileMetrics | None:
        """Keras 2's name for the compiled metrics: ``update_state(y, y_pred)`` in a train_step."""
        return self.__dict__.get("_compile_metrics")

    def compiled_loss(
        self, y: Any, y_pred: Any, sample_weight: Any = None, regularization_losses: Any = None
    ) -> torch.Tensor:
        """Keras 2's compiled loss: the weighted outputs' losses plus ``regularization_losses``."""
        spec = self.__dict__.get("_outputs_spec")
        if spec is None or not spec.has_loss():
            raise ValueError("compiled_loss: the model was compiled without a loss")
        ys = match(y, spec.names, "compiled_loss", "y", optional=True)
        total = spec.total(ys, flat_outputs(self, y_pred), sample_weight)
        for extra in regularization_losses or ():
            total = total + extra
        return total

    def get_metrics_result(self) -> dict[str, float]:
        """Every metric's current result, flattened to one dict of floats."""
        return python_logs({metric.name: metric.result() for metric in self.metrics})

    def _apply_gradients(self) -> None:
        """One optimizer step on the gradients in ``.grad``, then the weight constraints."""
        optimizer = self.optimizer.torch_optimizer or self.optimizer.build(self.parameters())
        optimizer.step()
        self.apply_constraints()

    def train_step(self, data: Any) -> dict[str, float]:
        """One step of fit on a batch ``data`` = (x, y[, sample_weight]); returns the logs.
        Override it to customise training, as in Keras."""
        x, y, sample_weight = unpack_data(data)
        self.zero_grad(set_to_none=True)
        y_pred = self(x, training=True)
        loss = self.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight)
        if loss.requires_grad:  # a model without trainable weights only measures
            loss.backward()
            self._apply_gradients()
        self._loss_tracker.update_state(loss.detach(), _samples(x))
        return self.compute_metrics(x, y, y_pred, sample_weight)

    def test_step(self, data: Any) -> dict[str, float]:
        """One step of evaluate on a batch; returns the logs."""
        x, y, sample_weight = unpack_data(data)
        y_pred = self(x, training=False)
        loss = self.compute_loss(
            x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=False
        )
        self._loss_tracker.update_state(loss.detach(), _samples(x))
        return self.compute_metrics(x, y, y_pred, sample_weight)

    def predict_step(self, data: Any) -> Any:
        """The model's outputs for one batch of inputs."""
        x, _, _ = unpack_data(data)
        return self(x, training=False)

    # ------------------------------------------------------------------ one batch
    def _one_batch(self, x: Any, y: Any, sample_weight: Any, what: str) -> tuple:
        device = self._training_device()
        data = adapt_structured(self, x, y, sample_weight, 1, False, device, what)
        return next(data.batches(len(data)))

    def train_on_batch(
        self,
        x: Any,
        y: Any = None,
        sample_weight: Any = None,
        class_weight: Any = None,
        return_dict: bool = False,
    ) -> float | list[float] | dict[str, float]:
        """One optimizer step on one batch; the loss (and metrics) on it, as Keras returns them."""
        self._require_compiled("train_on_batch")
        if class_weight is not None:
            raise ValueError("train_on_batch: class_weight is not supported; pass sample_weight")
        batch = self._one_batch(x, y, sample_weight, "train_on_batch")
        self.reset_metrics()
        self.train()
        return self._batch_result(python_logs(self.train_step(batch)), return_dict)

    def test_on_batch(
        self, x: Any, y: Any = None, sample_weight: Any = None, return_dict: bool = False
    ) -> float | list[float] | dict[str, float]:
        """The loss (and metrics) on one batch in inference mode, as Keras returns them."""
        self._require_compiled("test_on_batch")
        batch = self._one_batch(x, y, sample_weight, "test_on_batch")
        self.reset_metrics()
        was_training = self.training
        self.eval()
        try:
            with torch.no_grad():
                logs = python_logs(self.test_step(batch))
        finally:
            self.train(was_training)
        return self._batch_result(logs, return_dict)

    def predict_on_batch(self, x: Any) -> Any:
        """The model's outputs for one batch, as NumPy arrays in the model's structure."""
        batch = self._one_batch(x, None, None, "predict_on_batch")
        was_training = self.training
        self.eval()
        try:
            with torch.no_grad():
                outputs = self.predict_step(batch)
        finally:
            self.train(was_training)
        return to_numpy(outputs)

    def _batch_result(self, logs: dict[str, float], return_dict: bool) -> Any:
        if return_dict:
            return logs
        spec = self.__dict__.get("_outputs_spec")
        losses = [t.name for t in spec.loss_trackers] if spec is not None else []
        values = keras_order(logs, losses)
        return values[0] if len(values) == 1 else values


def to_numpy(outputs: Any) -> Any:
    """Tensors (alone, in a list or in a dict) as NumPy arrays in the same structure."""
    if isinstance(outputs, dict):
        return {key: to_numpy(value) for key, value in outputs.items()}
    if isinstance(outputs, (list, tuple)):
        return [to_numpy(value) for value in outputs]
    return (
        outputs.detach().float().cpu().numpy()
        if isinstance(outputs, torch.Tensor)
        else np.asarray(outputs)
    )
