"""compile and fit: the Keras workflow of the lecture, on a PyTorch model, on one process or
several under torchrun."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import torch

from cnnkit import config, distributed
from cnnkit import losses as losses_module
from cnnkit import metrics as metrics_module
from cnnkit import optimizers as optimizers_module
from cnnkit._validation import check_int
from cnnkit.callbacks import CallbackList, History, resolve_verbose
from cnnkit.training import _ahead, _checks, _resume, _resume_checks, _structured_loop
from cnnkit.training._data import ArrayData, adapt
from cnnkit.training._inference import Inference
from cnnkit.training._keras_steps import KerasSteps
from cnnkit.training._logs import (
    callbacks_for_rank,
    class_weights_to_samples,
    global_batch_sizes,
    read_logs,
)
from cnnkit.training._step import make_train_step
from cnnkit.training._structures import wants_structures


class Trainer(Inference, KerasSteps):
    """The training half of a model: mixed into Sequential, it needs ``forward``, ``layers``,
    ``losses``, ``apply_constraints`` and ``input_shape``/``output_shape`` from it."""

    # ------------------------------------------------------------------ compile
    def compile(
        self,
        optimizer: Any = "rmsprop",
        loss: Any = None,
        metrics: Sequence[Any] | None = None,
        jit_compile: bool = False,
        loss_weights: Any = None,
    ) -> None:
        """Choose the optimizer, the loss and the metrics to report.

        Args:
            optimizer: 'adam', 'sgd', 'rmsprop', 'adamw', 'adagrad', a
                ``cnnkit.optimizers`` object or a ``torch.optim.Optimizer``.
            loss: 'categorical_crossentropy' (one-hot labels), 'sparse_categorical_crossentropy'
                (integer labels), 'binary_crossentropy', 'mse', 'mae', a ``cnnkit.losses``
                object or a callable ``(y_true, y_pred)``.
                With several outputs: a list (one per output) or a dict keyed by output name;
                None when the model adds its own losses with ``add_loss``.
            metrics: e.g. ``['accuracy']``; logged under the names given. With several
                outputs: a list per output or a dict keyed by output name, logged as
                ``<output>_<metric>``.
            jit_compile: compile the forward pass with ``torch.compile``.
            loss_weights: a list or dict of numbers, one per output: the total loss is the
                weighted sum of the outputs' losses.
        """
        self._structured = wants_structures(loss, loss_weights, metrics, self)
        if self._structured:  # several outputs, or no loss: fit goes through train_step
            self._compile_outputs(loss, loss_weights, metrics)
            loss, metrics = "mse", None  # placeholders, unused by that path
        if metrics is not None and (
            isinstance(metrics, (str, dict)) or not isinstance(metrics, Sequence)
        ):
            raise TypeError(
                f"compile: metrics must be a list, e.g. metrics=['accuracy']. Received: metrics={metrics!r}"
            )
        self.optimizer = optimizers_module.get(optimizer)
        self.loss = losses_module.get(loss)
        self._metric_specs = [metrics_module.get(m) for m in (metrics or [])]
        if self._structured:
            self.loss = None
        else:
            self._compile_outputs(self.loss, None, self._metric_specs)
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
        ``batch_size`` is the global batch: under torchrun each of N processes takes 1/N of it,
        so results do not depend on the number of processes.
        """
        self._require_compiled("fit")
        batch_size = check_int(
            32 if batch_size is None else batch_size, "batch_size", "fit", minimum=1
        )
        epochs = check_int(epochs, "epochs", "fit", minimum=0)
        initial_epoch = check_int(initial_epoch, "initial_epoch", "fit", minimum=0)
        steps_per_epoch = check_int(
            steps_per_epoch, "steps_per_epoch", "fit", minimum=1, optional=True
        )
        validation_batch_size = check_int(
            validation_batch_size, "validation_batch_size", "fit", minimum=1, optional=True
        )
        validation_freq = check_int(validation_freq, "validation_freq", "fit", minimum=1)
        if _structured_loop.uses_structures(self, x, "train_step"):
            return _structured_loop.fit(
                self, x, y, batch_size, epochs, verbose, callbacks, validation_split,
                validation_data, shuffle, class_weight, sample_weight, initial_epoch,
                steps_per_epoch, validation_batch_size, validation_freq,
            )  # fmt: skip
        device, world = self._prepare_run(batch_size, "fit")
        verbose = resolve_verbose(verbose) if world.is_main else 0
        train = adapt(x, y, sample_weight, batch_size, shuffle, device, "fit", needs_y=True)
        validation = self._validation_set(
            train, validation_split, validation_data, batch_size, device
        )
        if isinstance(train, ArrayData):
            self._check_arrays(train, "fit")
            if class_weight is not None:
                train.sample_weight = class_weights_to_samples(train, class_weight)
        if isinstance(validation, ArrayData):
            self._check_arrays(validation, "fit (validation data)")
        optimizer = self.optimizer.torch_optimizer or self.optimizer.build(self.parameters())
        steps = (
            train.steps(batch_size)
            if steps_per_epoch is None
            else min(steps_per_epoch, train.steps(batch_size))
        )
        callback_list = CallbackList(
            callbacks_for_rank(callbacks, world),
            add_history=True,
            add_progbar=verbose != 0,
            model=self,
            verbose=verbose,
            epochs=epochs,
            steps=steps,
        )
        callback_list.callbacks.sort(
            key=lambda c: getattr(c, "runs_last", False)
        )  # BackupAndRestore last
        step = self._train_step(optimizer, device, world)
        shuffle_seed = distributed.broadcast_int(int(torch.randint(2**62, (1,)).item()), device)
        self._run = {
            "shuffle_seed": shuffle_seed,
            "callbacks": callback_list.callbacks,
            "context": _resume_checks.ResumeContext(
                self, epochs, steps, _ahead.group_size(train, batch_size), callback_list.callbacks
            ),
        }
        self.stop_training = False
        callback_list.on_train_begin()
        initial_epoch, shuffle_seed, resume_at = _resume.continuation(
            self.__dict__.pop("_pending_resume", None), initial_epoch, shuffle_seed
        )  # from where BackupAndRestore's backup was taken, if it found one
        self._run["shuffle_seed"] = shuffle_seed
        logs: dict[str, float] = {}
        for epoch in range(initial_epoch, epochs):
            callback_list.on_epoch_begin(epoch)
            logs = self._train_epoch(
                train,
                batch_size,
                shuffle,
                shuffle_seed + epoch,
                steps,
                step,
                callback_list,
                world,
                epoch,
                resume_at if epoch == initial_epoch else None,
            )
            if validation is not None and (epoch + 1) % validation_freq == 0:
                val_logs = self._evaluate_data(
                    validation, validation_batch_size or batch_size, callback_list
                )
                logs.update({f"val_{name}": value for name, value in val_logs.items()})
            callback_list.on_epoch_end(epoch, logs)
            self.stop_training = distributed.any_across(self.stop_training, device)
            if self.stop_training:
                break
        callback_list.on_train_end(logs)
        self.history = callback_list.history
        if world.active:  # the DDP wrapper holds the process group: see distributed._leave
            self._step_cache.pop("train", None)
        return self.history

    def _train_epoch(
        self, train, batch_size, shuffle, seed, steps, step, callback_list, world, epoch, resume_at
    ) -> dict[str, float]:
        """One pass over the training data; returns the epoch's logs (over all processes).

        ``resume_at`` (a mid-epoch backup's position) continues a backed-up epoch.
        """
        self.train()
        generator = torch.Generator().manual_seed(seed)  # the same order on every process
        sizes = global_batch_sizes(len(train), batch_size) if world.active else None
        trackers, loss_tracker = None, metrics_module.Mean(name="loss")
        saved_totals = resume_at.totals if resume_at else None
        batch_hooks = callback_list.needs_train_batch_hooks()
        order = (shuffle, generator, (world.rank, world.size))
        batches, groups = _ahead.epoch_batches(
            self, train, batch_size, order, steps, step.start, resume_at
        )
        for index, (xb, yb, wb) in batches:
            if batch_hooks:
                callback_list.on_train_batch_begin(index)
            outputs, loss = step(xb, yb, wb, len(xb) * world.size / sizes[index] if sizes else 1.0)
            if trackers is None:
                trackers = self._new_trackers(yb, outputs.shape)
                needs_probabilities = step.outputs_are_logits and not all(
                    t.ranks_only for t in trackers
                )
                if saved_totals is not None:
                    _resume.restore_totals([loss_tracker, *trackers], saved_totals)
            if needs_probabilities:
                outputs = torch.softmax(outputs, dim=-1)  # a metric needs probabilities, not logits
            loss_tracker.update_state(loss, len(xb))
            for tracker in trackers:
                tracker.update_state(yb, outputs, wb)
            self._run["position"] = (epoch, index + 1, [loss_tracker, *trackers])
            self._run["group"] = groups.current if groups is not None else None
            if batch_hooks:
                callback_list.on_train_batch_end(index, read_logs(loss_tracker, trackers))
            if self.stop_training:
                break
        if (
            trackers is None and saved_totals is not None
        ):  # the backup was taken after the last batch
            trackers = self._new_trackers(None, torch.Size([0, *self.output_shape[1:]]))
            _resume.restore_totals([loss_tracker, *trackers], saved_totals)
        return read_logs(loss_tracker, trackers or [], across_processes=world.active)

    def _validation_set(
        self, train, split: float, data: Any, batch_size: int, device: torch.device
    ):
        """Keras' validation_data (a pair or triple, or a Dataset) or validation_split."""
        what = "fit (validation data)"
        if data is not None:
            if not isinstance(data, (tuple, list)):
                return adapt(data, None, None, batch_size, False, device, what, needs_y=True)
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
                what,
                needs_y=True,
            )
        if not split:
            return None
        if isinstance(split, bool) or not isinstance(split, (int, float)) or not 0 < split < 1:
            raise ValueError(
                f"fit: validation_split must be a float in (0, 1). Received: validation_split={split!r}"
            )
        if not isinstance(train, ArrayData):
            raise ValueError(
                "fit: validation_split needs arrays or tensors; with a Dataset pass validation_data"
            )
        kept, validation = train.split(split)
        if len(kept) == 0 or len(validation) == 0:
            raise ValueError(
                f"fit: validation_split={split} leaves no training or no validation samples out of {len(train)}"
            )
        train.x, train.y, train.sample_weight = kept.x, kept.y, kept.sample_weight
        return validation

    def _train_step(
        self, optimizer: torch.optim.Optimizer, device: torch.device, world: distributed.World
    ):
        """Build (once per compile, optimizer, process group and precision) the step function."""
        start = _ahead.augmentation_prefix(self)
        key = (id(optimizer), world.size, config.get_precision(), start)
        cached = self._step_cache.get("train")
        if cached is not None and cached[0] == key:
            return cached[1]

        def wrap(module: torch.nn.Module) -> torch.nn.Module:
            if not world.active:
                return module
            for layer in self.layers:  # gradients of channels-last convolutions come channels-last
                if getattr(layer, "data_format", None) == "channels_last" and hasattr(
                    layer, "kernel_size"
                ):
                    layer.weight.data = layer.weight.data.contiguous(
                        memory_format=torch.channels_last
                    )
            device_ids = [device.index] if device.type == "cuda" else None
            return torch.nn.parallel.DistributedDataParallel(module, device_ids=device_ids)

        step = make_train_step(self, optimizer, wrap, device, start)
        self._step_cache["train"] = (key, step)
        return step

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

    def _constraint_sources(self):
        for layer in self.modules():
            if not hasattr(layer, "_weight_constraints"):
                continue
            if any(c is not None for _, c in layer._weight_constraints()) or any(
                w.constraint is not None for w in layer.__dict__.get("_added_weights", ())
            ):
                yield layer

    # ------------------------------------------------------------------ where it runs
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

    # ------------------------------------------------------------------ resuming
    def save_training_state(
        self, filepath: str | os.PathLike, epoch: int, mid_epoch: bool = False
    ) -> None:
        """Write weights, optimizer and the run's state after ``epoch`` ends, or, with
        ``mid_epoch``, after the batch just finished (used by BackupAndRestore)."""
        from cnnkit.saving import save_model

        run = getattr(self, "_run", None)
        if run is None:
            raise ValueError("save_training_state is only meaningful during fit")
        save_model(self, filepath, extra=_resume.capture(self, run, epoch, mid_epoch))

    def resume_from(self, filepath: str | os.PathLike) -> None:
        """Load a backup written by :meth:`save_training_state` (checked whole first); the
        running fit continues where it was taken."""
        run = getattr(self, "_run", None)
        if run is None:
            raise ValueError("resume_from is only meaningful during fit (BackupAndRestore)")
        self._pending_resume = _resume_checks.restore_checked(self, filepath, run["context"])

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
