"""evaluate and predict: inference-mode passes over data, sharded under torchrun."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from cnnkit import config, distributed
from cnnkit import metrics as metrics_module
from cnnkit._validation import check_int
from cnnkit.callbacks import CallbackList, resolve_verbose
from cnnkit.training import _checks, _structured_loop, _tta
from cnnkit.training._data import ArrayData
from cnnkit.training._logs import callbacks_for_rank, chunk_sizes, read_logs
from cnnkit.training._step import autocast_context
from cnnkit.training._stream_data import adapt_data
from cnnkit.training._structures import keras_order


class Inference:
    """evaluate / predict, and what fit shares with them (checks, device, metrics); the base of
    Trainer. Mixed into a model, it needs ``forward``, ``layers``, ``losses``, ``modules``,
    ``built``/``build_for``, ``output_shape`` and ``_device`` from it, and the ``loss`` and
    ``_metric_specs`` that ``compile`` sets."""

    def evaluate(
        self,
        x: Any = None,
        y: Any = None,
        batch_size: int | None = None,
        verbose: int | str = "auto",
        sample_weight: Any = None,
        callbacks: Sequence[Any] | None = None,
        return_dict: bool = False,
        steps: int | None = None,
        tta: Any = None,
    ) -> float | list[float] | dict[str, float]:
        """Loss and metrics on ``x, y`` in inference mode: a float (loss only), a list
        ``[loss, *metrics]``, or a dict with ``return_dict=True``. ``x`` may also be a
        ``PyDataset`` or a generator of (x, y) batches; ``steps`` caps the batches (required
        for a generator). ``tta`` ('flip', 'flip+translate' or a list of callables) scores
        the mean of the predictions over augmented views of ``x`` (see ``_tta``)."""
        self._require_compiled("evaluate")
        batch_size = check_int(
            32 if batch_size is None else batch_size, "batch_size", "evaluate", minimum=1
        )
        if tta is not None:
            logs = _tta.evaluate(self, x, y, tta, sample_weight, batch_size)
            values = keras_order(logs, [])
            return logs if return_dict else values[0] if len(values) == 1 else values
        if _structured_loop.uses_structures(self, x, "test_step"):
            return _structured_loop.evaluate(
                self, x, y, batch_size, verbose, sample_weight, callbacks, return_dict
            )
        device, world = self._prepare_run(batch_size, "evaluate")
        verbose = resolve_verbose(verbose) if world.is_main else 0
        data = adapt_data(
            x, y, sample_weight, batch_size, False, device, "evaluate", needs_y=True, steps=steps
        )
        steps = check_int(steps, "steps", "evaluate", minimum=1, optional=True)
        if isinstance(data, ArrayData):
            self._check_arrays(data, "evaluate")
        callback_list = CallbackList(
            callbacks_for_rank(callbacks, world),
            add_progbar=verbose != 0,
            model=self,
            verbose=verbose,
            epochs=1,
            steps=min(data.steps(batch_size), steps or data.steps(batch_size)),
        )
        logs = self._evaluate_data(data, batch_size, callback_list, steps)
        if return_dict:
            return logs
        values = keras_order(logs, [])  # loss, then the metrics by name, as Keras lists them
        return values[0] if len(values) == 1 else values

    def _evaluate_data(
        self, data, batch_size: int, callback_list: CallbackList, steps: int | None = None
    ) -> dict[str, float]:
        was_training = self.training
        self.eval()
        loss_tracker, trackers = metrics_module.Mean(name="loss"), None
        has_penalties = any(True for _ in self._penalty_sources())
        world = distributed.world()
        autocast = autocast_context(self._training_device())
        callback_list.on_test_begin()
        logs: dict[str, float] = {}
        with torch.inference_mode():
            for index, (xb, yb, wb) in enumerate(
                data.batches(batch_size, shard=(world.rank, world.size), limit=steps)
            ):
                callback_list.on_test_batch_begin(index)
                with autocast():
                    outputs = self(xb).float()
                loss = self.loss(yb, outputs, wb)
                if has_penalties:
                    loss = loss + sum(self.losses)
                if trackers is None:
                    trackers = self._new_trackers(yb, outputs.shape)
                loss_tracker.update_state(loss, len(xb))
                for tracker in trackers:
                    tracker.update_state(yb, outputs, wb)
                logs = read_logs(loss_tracker, trackers)
                callback_list.on_test_batch_end(index, logs)
        if trackers is None:  # this process had no samples; still take part in the reduction
            trackers = self._new_trackers(None, torch.Size([0, *self.output_shape[1:]]))
        logs = read_logs(loss_tracker, trackers, across_processes=world.active)
        callback_list.on_test_end(logs)
        self.train(was_training)
        return logs

    def predict(
        self,
        x: Any,
        batch_size: int | None = None,
        verbose: int | str = "auto",
        callbacks: Sequence[Any] | None = None,
        steps: int | None = None,
        tta: Any = None,
    ) -> np.ndarray:
        """Run the model in inference mode; returns one NumPy array (class probabilities for a
        softmax classifier), in the order of ``x`` - on every process under torchrun. ``x``
        may also be a ``PyDataset`` or a generator of batches; ``steps`` caps the batches
        (required for a generator). ``tta`` ('flip', 'flip+translate' or a list of
        callables) returns the mean over augmented views of ``x`` (see ``_tta``)."""
        batch_size = check_int(
            32 if batch_size is None else batch_size, "batch_size", "predict", minimum=1
        )
        if tta is not None:
            options = {"batch_size": batch_size, "verbose": verbose, "callbacks": callbacks}
            return _tta.predict(self, x, tta, options)
        if _structured_loop.uses_structures(self, x, "predict_step"):
            return _structured_loop.predict(self, x, batch_size, verbose, callbacks)
        device, world = self._prepare_run(batch_size, "predict")
        verbose = resolve_verbose(verbose) if world.is_main else 0
        data = adapt_data(x, None, None, batch_size, False, device, "predict", steps=steps)
        steps = check_int(steps, "steps", "predict", minimum=1, optional=True)
        if isinstance(data, ArrayData):
            self._check_arrays(data, "predict")
        callback_list = CallbackList(
            callbacks_for_rank(callbacks, world),
            add_progbar=verbose != 0,
            model=self,
            verbose=verbose,
            epochs=1,
            steps=min(data.steps(batch_size), steps or data.steps(batch_size)),
        )
        chunks = (
            chunk_sizes(len(data), world.size)
            if world.active and isinstance(data, ArrayData)
            else None
        )
        if chunks:  # each process predicts one contiguous chunk; the chunks are gathered in order
            start = sum(chunks[: world.rank])
            data = data.rows(start, start + chunks[world.rank])
        result = self._predict_data(data, batch_size, callback_list, device, steps)
        if chunks:
            result = distributed.gather_in_order(result, chunks)
        return result.cpu().numpy()

    def _predict_data(
        self,
        data,
        batch_size: int,
        callback_list: CallbackList,
        device: torch.device,
        steps: int | None = None,
    ) -> torch.Tensor:
        was_training = self.training
        self.eval()
        outputs = []
        autocast = autocast_context(device)
        callback_list.on_predict_begin()
        with torch.inference_mode():
            for index, (xb, _, _) in enumerate(data.batches(batch_size, limit=steps)):
                callback_list.on_predict_batch_begin(index)
                with autocast():
                    outputs.append(self(xb).float())
                callback_list.on_predict_batch_end(index, {})
        callback_list.on_predict_end()
        self.train(was_training)
        if not outputs:
            return torch.zeros((0, *self.output_shape[1:]), device=device)
        return torch.cat(outputs)

    # ------------------------------------------------------------------ shared with fit
    def _require_compiled(self, what: str) -> None:
        if not getattr(self, "compiled", False):
            raise ValueError(
                f"{what}: the model must be compiled first, e.g. model.compile(optimizer='adam', "
                "loss='categorical_crossentropy', metrics=['accuracy'])"
            )

    def _new_trackers(
        self, y: torch.Tensor | None, y_pred_shape: torch.Size
    ) -> list[metrics_module.Metric]:
        """Fresh metric objects; 'accuracy' is resolved from the loss and the label shapes."""
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

    def _penalty_sources(self):
        """The layers (this model and every layer inside it) that may add to the loss."""
        for layer in self.modules():
            if not hasattr(layer, "_weight_regularizers"):
                continue
            if (
                getattr(layer, "activity_regularizer", None) is not None
                or layer._user_call  # call() may use add_loss
                or any(w.regularizer is not None for w in layer.__dict__.get("_added_weights", ()))
                or any(r is not None for _, r in layer._weight_regularizers())
            ):
                yield layer

    def _prepare_run(self, batch_size: int, what: str) -> tuple[torch.device, distributed.World]:
        """Move the model to the configured device and join the process group under torchrun."""
        config.apply_malloc_tuning()
        device = distributed.process_device(config.get_device())
        world = distributed.setup(device)
        if world.active and batch_size < world.size:
            raise ValueError(
                f"{what}: batch_size ({batch_size}) is the global batch and must be at least the number of "
                f"processes ({world.size}); each process takes batch_size / {world.size} samples"
            )
        current = self._device()
        if (
            current is not None
            and current.type != device.type
            or (current is not None and device.type == "cuda" and current != device)
        ):
            self.to(device)
        return device, world

    def _training_device(self) -> torch.device:
        return self._device() or torch.device("cpu")

    def _check_arrays(self, data: ArrayData, what: str) -> None:
        if not self.built:
            self.build_for(tuple(data.x.shape))
        _checks.check_images(self, data.x, what)
        if data.y is not None and getattr(self, "compiled", False):
            _checks.check_labels(self, self.loss, data.y, what)
