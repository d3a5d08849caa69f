"""compile / fit / evaluate / predict: the Keras workflow of the lecture, on a PyTorch model."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from cnnkit import losses as losses_module
from cnnkit import metrics as metrics_module
from cnnkit import optimizers as optimizers_module
from cnnkit.callbacks import CallbackList, History
from cnnkit.callbacks._progbar import resolve_verbose
from cnnkit.training import _checks
from cnnkit.training._data import ArrayData, adapt
from cnnkit.training._step import logits_forward, logits_loss


class Trainer:
    """The training half of a model: mixed into Sequential, it needs ``forward``, ``layers``,
    ``losses``, ``apply_constraints`` and ``input_shape``/``output_shape`` from it."""

    # ------------------------------------------------------------------ compile
    def compile(
        self,
        optimizer: Any = "rmsprop",
        loss: Any = None,
        metrics: Sequence[Any] | None = None,
        jit_compile: bool = False,
    ) -> None:
        """Choose the optimizer, the loss and the metrics to report.

        Args:
            optimizer: 'adam', 'sgd', 'rmsprop', 'adamw', 'adagrad', a
                ``cnnkit.optimizers`` object or a ``torch.optim.Optimizer``.
            loss: 'categorical_crossentropy' (one-hot labels), 'sparse_categorical_crossentropy'
                (integer labels), 'binary_crossentropy', 'mse', 'mae', a ``cnnkit.losses``
                object or a callable ``(y_true, y_pred)``.
            metrics: e.g. ``['accuracy']``; logged under the names given.
            jit_compile: compile the forward pass with ``torch.compile``.
        """
        if loss is None:
            raise ValueError("compile: loss is required, e.g. loss='categorical_crossentropy'")
        if metrics is not None and (
            isinstance(metrics, (str, dict)) or not isinstance(metrics, Sequence)
        ):
            raise TypeError(
                f"compile: metrics must be a list, e.g. metrics=['accuracy']. Received: metrics={metrics!r}"
            )
        self.optimizer = optimizers_module.get(optimizer)
        self.loss = losses_module.get(loss)
        self._metric_specs = [metrics_module.get(m) for m in (metrics or [])]
        self.jit_compile = bool(jit_compile)
        self.compiled = True
        self.stop_training = False
        self._step_cache: dict[str, Any] = {}

    def _require_compiled(self, what: str) -> None:
        if not getattr(self, "compiled", False):
            raise ValueError(
                f"{what}: the model must be compiled first, e.g. model.compile(optimizer='adam', "
                "loss='categorical_crossentropy', metrics=['accuracy'])"
            )

    # ------------------------------------------------------------------ metrics
    def _new_trackers(
        self, y: torch.Tensor | None, y_pred_shape: torch.Size
    ) -> list[metrics_module.Metric]:
        trackers: list[metrics_module.Metric] = []
        probe = torch.zeros(y_pred_shape)
        for spec in self._metric_specs:
            if isinstance(spec, str):
                cls = metrics_module.resolve_accuracy(
                    self.loss.name, y if y is not None else probe, probe
                )
                trackers.append(cls(name=spec))
            else:
                spec.reset_state()
                trackers.append(spec)
        return trackers

    # ------------------------------------------------------------------ fit
    def fit(
        self,
        x: Any = None,
        y: Any = None,
        batch_size: int | None = None,
        epochs: int = 1,
        verbose: int | str = "auto",
        callbacks: Sequence[Any] | None = None,
        validation_split: float = 0.0,
        validation_data: Any = None,
        shuffle: bool = True,
        class_weight: dict[int, float] | None = None,
        sample_weight: Any = None,
        initial_epoch: int = 0,
        steps_per_epoch: int | None = None,
        validation_batch_size: int | None = None,
        validation_freq: int = 1,
    ) -> History:
        """Train for ``epochs`` passes over the data; returns a History of per-epoch logs.

        ``x``: images (samples, height, width, channels) as a NumPy array or tensor, or a
        ``torch.utils.data.Dataset``/``DataLoader`` yielding (x, y) batches. ``y``: labels
        (one-hot for categorical_crossentropy, integers for sparse_categorical_crossentropy).
        ``validation_split`` keeps the last fraction of the samples (before shuffling) aside.
        """
        self._require_compiled("fit")
        batch_size = _positive_int(32 if batch_size is None else batch_size, "batch_size", "fit")
        epochs = _positive_int(epochs, "epochs", "fit", allow_zero=True)
        verbose = resolve_verbose(verbose)
        device = self._training_device()
        train = adapt(x, y, sample_weight, batch_size, shuffle, device, "fit")
        validation = self._validation_set(
            train, validation_split, validation_data, batch_size, device
        )
        if isinstance(train, ArrayData):
            self._check_arrays(train, "fit")
            if class_weight is not None:
                train.sample_weight = _with_class_weights(train, class_weight)
        if validation is not None and isinstance(validation, ArrayData):
            self._check_arrays(validation, "fit (validation data)")
        optimizer = self.optimizer.torch_optimizer or self.optimizer.build(self.parameters())
        steps = (
            train.steps(batch_size)
            if steps_per_epoch is None
            else min(steps_per_epoch, train.steps(batch_size))
        )
        callback_list = CallbackList(
            callbacks,
            add_history=True,
            add_progbar=verbose != 0,
            model=self,
            verbose=verbose,
            epochs=epochs,
            steps=steps,
        )
        self.stop_training = False
        step = self._train_step_function(optimizer)
        callback_list.on_train_begin()
        logs: dict[str, float] = {}
        for epoch in range(initial_epoch, epochs):
            callback_list.on_epoch_begin(epoch)
            self.train()
            trackers, loss_tracker = None, metrics_module.Mean(name="loss")
            for index, (xb, yb, wb) in enumerate(train.batches(batch_size, shuffle)):
                if index >= steps:
                    break
                callback_list.on_train_batch_begin(index)
                outputs, loss = step(xb, yb, wb)
                if trackers is None:
                    trackers = self._new_trackers(yb, outputs.shape)
                loss_tracker.update_state(loss, len(xb))
                for tracker in trackers:
                    tracker.update_state(yb, outputs, wb)
                logs = _read(loss_tracker, trackers or [])
                callback_list.on_train_batch_end(index, logs)
                if self.stop_training:
                    break
            logs = _read(loss_tracker, trackers or [])
            if validation is not None and (epoch + 1) % validation_freq == 0:
                val_logs = self._evaluate_data(
                    validation, validation_batch_size or batch_size, callback_list
                )
                logs.update({f"val_{name}": value for name, value in val_logs.items()})
            callback_list.on_epoch_end(epoch, logs)
            if self.stop_training:
                break
        callback_list.on_train_end(logs)
        self.history = callback_list.history
        return self.history

    def _validation_set(
        self, train, split: float, data: Any, batch_size: int, device: torch.device
    ):
        if data is not None:
            if isinstance(data, (tuple, list)):
                if len(data) not in (2, 3):
                    raise ValueError(
                        f"fit: validation_data must be (x_val, y_val) or (x_val, y_val, sample_weight); received a "
                        f"{type(data).__name__} of {len(data)} items"
                    )
                return adapt(
                    data[0],
                    data[1],
                    data[2] if len(data) == 3 else None,
                    batch_size,
                    False,
                    device,
                    "fit (validation data)",
                )
            return adapt(data, None, None, batch_size, False, device, "fit (validation data)")
        if split:
            if isinstance(split, bool) or not isinstance(split, (int, float)) or not 0 < split < 1:
                raise ValueError(
                    f"fit: validation_split must be a float in (0, 1). Received: validation_split={split!r}"
                )
            if not isinstance(train, ArrayData):
                raise ValueError(
                    "fit: validation_split needs arrays or tensors; with a Dataset pass validation_data"
                )
            train_part, validation = train.split(split)
            if len(train_part) == 0 or len(validation) == 0:
                raise ValueError(
                    f"fit: validation_split={split} leaves no training or no validation samples "
                    f"out of {len(train)}"
                )
            train.x, train.y, train.sample_weight = (
                train_part.x,
                train_part.y,
                train_part.sample_weight,
            )
            return validation
        return None

    def _train_step_function(self, optimizer: torch.optim.Optimizer):
        """Build (once per compile) the function that runs one optimisation step."""
        key = "train"
        if key in self._step_cache and self._step_cache[key][0] is optimizer:
            return self._step_cache[key][1]
        fast = logits_forward(self, self.loss)
        forward = fast or self.forward
        compute_loss = logits_loss(self.loss) if fast else (lambda y, out, w: self.loss(y, out, w))
        if self.jit_compile:
            forward = torch.compile(forward)
        has_penalties = any(True for _ in self._penalty_sources())
        has_constraints = any(True for _ in self._constraint_sources())
        to_probabilities = (lambda out: torch.softmax(out, dim=-1)) if fast else (lambda out: out)

        def step(xb: torch.Tensor, yb: torch.Tensor, wb: torch.Tensor | None):
            optimizer.zero_grad(set_to_none=True)
            outputs = forward(xb)
            loss = compute_loss(yb, outputs, wb)
            if has_penalties:
                loss = loss + sum(self.losses)
            loss.backward()
            optimizer.step()
            if has_constraints:
                self.apply_constraints()
            return to_probabilities(outputs.detach()), loss.detach()

        self._step_cache[key] = (optimizer, step)
        return step

    def _penalty_sources(self):
        for layer in self.layers:
            if getattr(layer, "activity_regularizer", None) is not None:
                yield layer
            if any(r is not None for _, r in layer._weight_regularizers()):
                yield layer

    def _constraint_sources(self):
        for layer in self.layers:
            if any(c is not None for _, c in layer._weight_constraints()):
                yield layer

    # ------------------------------------------------------------------ evaluate
    def evaluate(
        self,
        x: Any = None,
        y: Any = None,
        batch_size: int | None = None,
        verbose: int | str = "auto",
        sample_weight: Any = None,
        callbacks: Sequence[Any] | None = None,
        return_dict: bool = False,
    ) -> float | list[float] | dict[str, float]:
        """Loss and metrics on ``x, y`` in inference mode: a float (loss only), a list
        ``[loss, *metrics]``, or a dict with ``return_dict=True``."""
        self._require_compiled("evaluate")
        batch_size = _positive_int(
            32 if batch_size is None else batch_size, "batch_size", "evaluate"
        )
        verbose = resolve_verbose(verbose)
        data = adapt(x, y, sample_weight, batch_size, False, self._training_device(), "evaluate")
        if isinstance(data, ArrayData):
            self._check_arrays(data, "evaluate")
        callback_list = CallbackList(
            callbacks,
            add_progbar=verbose != 0,
            model=self,
            verbose=verbose,
            epochs=1,
            steps=data.steps(batch_size),
        )
        logs = self._evaluate_data(data, batch_size, callback_list)
        if return_dict:
            return logs
        values = list(logs.values())
        return values[0] if len(values) == 1 else values

    def _evaluate_data(
        self, data, batch_size: int, callback_list: CallbackList
    ) -> dict[str, float]:
        was_training = self.training
        self.eval()
        loss_tracker, trackers = metrics_module.Mean(name="loss"), None
        has_penalties = any(True for _ in self._penalty_sources())
        callback_list.on_test_begin()
        logs: dict[str, float] = {}
        with torch.inference_mode():
            for index, (xb, yb, wb) in enumerate(data.batches(batch_size)):
                callback_list.on_test_batch_begin(index)
                outputs = self(xb)
                loss = self.loss(yb, outputs, wb)
                if has_penalties:
                    loss = loss + sum(self.losses)
                if trackers is None:
                    trackers = self._new_trackers(yb, outputs.shape)
                loss_tracker.update_state(loss, len(xb))
                for tracker in trackers:
                    tracker.update_state(yb, outputs, wb)
                logs = _read(loss_tracker, trackers)
                callback_list.on_test_batch_end(index, logs)
        logs = _read(loss_tracker, trackers or [])
        callback_list.on_test_end(logs)
        self.train(was_training)
        return logs

    # ------------------------------------------------------------------ predict
    def predict(
        self,
        x: Any,
        batch_size: int | None = None,
        verbose: int | str = "auto",
        callbacks: Sequence[Any] | None = None,
    ) -> np.ndarray:
        """Run the model in inference mode; returns one NumPy array (class probabilities for a
        softmax classifier), in the order of ``x``."""
        batch_size = _positive_int(
            32 if batch_size is None else batch_size, "batch_size", "predict"
        )
        verbose = resolve_verbose(verbose)
        data = adapt(x, None, None, batch_size, False, self._training_device(), "predict")
        if isinstance(data, ArrayData):
            self._check_arrays(data, "predict")
        callback_list = CallbackList(
            callbacks,
            add_progbar=verbose != 0,
            model=self,
            verbose=verbose,
            epochs=1,
            steps=data.steps(batch_size),
        )
        was_training = self.training
        self.eval()
        outputs = []
        callback_list.on_predict_begin()
        with torch.inference_mode():
            for index, (xb, _, _) in enumerate(data.batches(batch_size)):
                callback_list.on_predict_batch_begin(index)
                outputs.append(self(xb))
                callback_list.on_predict_batch_end(index, {})
        callback_list.on_predict_end()
        self.train(was_training)
        return torch.cat(outputs).cpu().numpy()

    # ------------------------------------------------------------------ saving
    def save(self, filepath: str, include_optimizer: bool = True) -> None:
        """Save architecture, weights, compile settings and optimizer state in one file
        (safetensors with JSON metadata; any extension). The write is atomic."""
        from cnnkit.saving import save_model

        save_model(self, filepath, include_optimizer)

    def save_weights(self, filepath: str) -> None:
        """Save only the weights (atomically), for ``load_weights``."""
        from cnnkit.saving import save_weights

        save_weights(self, filepath)

    def load_weights(self, filepath: str) -> None:
        """Load weights written by ``save_weights`` or ``save`` into this model."""
        from cnnkit.saving import load_weights

        load_weights(self, filepath)

    # ------------------------------------------------------------------ helpers
    def _training_device(self) -> torch.device:
        return self._device() or torch.device("cpu")

    def _check_arrays(self, data: ArrayData, what: str) -> None:
        if not self.built:
            self.build_for(tuple(data.x.shape))
            if (
                getattr(self, "optimizer", None) is not None
                and self.optimizer.torch_optimizer is not None
            ):
                raise RuntimeError(
                    "fit: the optimizer was built before the model; compile after building"
                )
        _checks.check_images(self, data.x, what)
        if data.y is not None and getattr(self, "compiled", False):
            _checks.check_labels(self, self.loss, data.y, what)


def _read(
    loss_tracker: metrics_module.Mean, trackers: list[metrics_module.Metric]
) -> dict[str, float]:
    logs = {"loss": loss_tracker.result()}
    for tracker in trackers:
        logs[tracker.name] = tracker.result()
    return logs


def _positive_int(value: Any, name: str, what: str, allow_zero: bool = False) -> int:
    lowest = 0 if allow_zero else 1
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < lowest:
        raise ValueError(f"{what}: {name} must be an int >= {lowest}. Received: {name}={value!r}")
    return int(value)


def _with_class_weights(data: ArrayData, class_weight: dict[int, float]) -> torch.Tensor:
    if not isinstance(class_weight, dict):
        raise TypeError(
            f"fit: class_weight must be a dict {{class index: weight}}. Received: {class_weight!r}"
        )
    labels = (
        data.y.argmax(dim=-1)
        if data.y.ndim > 1 and data.y.shape[-1] > 1
        else data.y.reshape(-1).long()
    )
    table = torch.ones(int(max(max(class_weight), int(labels.max()))) + 1, device=labels.device)
    for label, weight in class_weight.items():
        table[int(label)] = float(weight)
    weights = table[labels]
    return weights if data.sample_weight is None else weights * data.sample_weight
