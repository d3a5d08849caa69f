"""compile and fit: the Keras workflow of the lecture, on a PyTorch model, on one process or
several under torchrun."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from cnnkit import config, distributed
from cnnkit import losses as losses_module
from cnnkit import metrics as metrics_module
from cnnkit import optimizers as optimizers_module
from cnnkit._fast import _ahead
from cnnkit._validation import check_int
from cnnkit.callbacks import CallbackList, History, resolve_verbose
from cnnkit.training import _resume, _structured_loop
from cnnkit.training._data import ArrayData, adapt
from cnnkit.training._epoch import train_epoch
from cnnkit.training._inference import Inference
from cnnkit.training._keras2 import Keras2Methods
from cnnkit.training._keras_steps import KerasSteps
from cnnkit.training._logs import callbacks_for_rank, class_weights_to_samples
from cnnkit.training._recipes import Recipes
from cnnkit.training._run import Data, Position, Run, Settings, TrainStep
from cnnkit.training._step import make_train_step
from cnnkit.training._stream_data import adapt_data
from cnnkit.training._structures import wants_structures


class Trainer(Keras2Methods, Inference, KerasSteps, Recipes):
    """The training half of a model: mixed into Sequential, it needs ``forward``, ``layers``,
    ``losses``, ``apply_constraints`` and ``input_shape``/``output_shape`` from it."""

    # ------------------------------------------------------------------ compile
    def compile(
        self,
        optimizer: Any = "rmsprop",
        loss: Any = None,
        metrics: Sequence[Any] | None = None,
        jit_compile: bool | str = False,
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
            jit_compile: compile the training step's forward pass with ``torch.compile``
                (once, for the batch shape; a last partial batch runs uncompiled). 'auto':
                time a few steps both ways and keep the faster, compiling only when the
                run is long enough to win the compile time back (``cnnkit._fast._compiled``).
                Without a C++ compiler, True warns once and trains uncompiled.
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
        if jit_compile not in (True, False, "auto"):
            raise ValueError(
                "compile: jit_compile must be True, False or 'auto'. "
                f"Received: jit_compile={jit_compile!r}"
            )
        self.jit_compile = jit_compile if jit_compile == "auto" else bool(jit_compile)
        self.compiled = True
        self.stop_training = False
        self._step_cache: dict[str, Any] = {}

    # ------------------------------------------------------------------ fit
    #: The fit in progress (None outside fit): BackupAndRestore reaches it through
    #: save_training_state and resume_from.
    _current_run: Run | None = None

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
        validation_steps: int | None = None,
    ) -> History:
        """Train for ``epochs`` passes over the data; returns a History of per-epoch logs.

        ``x``: images (samples, height, width, channels) as a NumPy array or tensor, or a
        ``torch.utils.data.Dataset``/``DataLoader`` yielding (x, y) batches, a ``PyDataset``,
        or a generator of (x, y) batches with ``steps_per_epoch`` set. ``y``: labels
        (one-hot for categorical_crossentropy, integers for sparse_categorical_crossentropy).
        ``validation_split`` keeps the last fraction of the samples (before shuffling) aside;
        ``validation_steps`` caps the validation batches (required for a generator).
        ``batch_size`` is the global batch: under torchrun each of N processes takes 1/N of it,
        so results do not depend on the number of processes. Arrays go to the model's device
        once per call, as float32 images, when they take at most half of a GPU's free memory;
        larger ones stay in host memory and each batch is copied to the GPU.
        """
        self._require_compiled("fit")
        settings = Settings.checked(
            batch_size,
            epochs,
            initial_epoch,
            steps_per_epoch,
            validation_batch_size,
            validation_freq,
            shuffle,
        )
        if _structured_loop.uses_structures(self, x, "train_step"):
            return _structured_loop.fit(
                self, x, y, settings.batch_size, settings.epochs, verbose, callbacks,
                validation_split, validation_data, shuffle, class_weight, sample_weight,
                settings.initial_epoch, settings.steps_per_epoch, settings.validation_batch_size,
                settings.validation_freq,
            )  # fmt: skip
        device, world = self._prepare_run(settings.batch_size, "fit")
        verbose = resolve_verbose(verbose) if world.is_main else 0
        validation_steps = check_int(
            validation_steps, "validation_steps", "fit", minimum=1, optional=True
        )
        train, validation = self._fit_data(
            settings,
            device,
            (x, y, sample_weight),
            class_weight,
            validation_split,
            (validation_data, validation_steps),
        )
        run = self._new_run(settings, device, world, (train, validation), callbacks, verbose)
        self._current_run, self.stop_training = run, False
        run.callbacks.on_train_begin()  # BackupAndRestore may restore a backup here
        if run.restored is not None:
            run.position, run.shuffle_seed = _resume.continuation(run.restored)
        logs: dict[str, float] = {}
        for epoch in range(run.position.epoch, run.epochs):
            run.callbacks.on_epoch_begin(epoch)
            logs = train_epoch(self, run, epoch)
            if validation is not None and (epoch + 1) % settings.validation_freq == 0:
                val_batch = settings.validation_batch_size or settings.batch_size
                val_logs = self._evaluate_data(
                    validation, val_batch, run.callbacks, validation_steps
                )
                logs.update({f"val_{name}": value for name, value in val_logs.items()})
            run.callbacks.on_epoch_end(epoch, logs)
            self.stop_training = distributed.any_across(self.stop_training, device)
            if self.stop_training:
                break
        run.callbacks.on_train_end(logs)
        self.history, self._current_run = run.callbacks.history, None
        if world.active:  # the DDP wrapper holds the process group: see distributed._leave
            self._step_cache.pop("train", None)
        return self.history

    def _fit_data(
        self,
        settings: Settings,
        device: torch.device,
        arrays: tuple[Any, Any, Any],
        class_weight: dict[int, float] | None,
        validation_split: float,
        validation: tuple[Any, int | None],
    ) -> tuple[Data, Data | None]:
        """fit's training and validation data (with validation_steps), checked, on ``device``."""
        train = adapt_data(
            *arrays,
            settings.batch_size,
            settings.shuffle,
            device,
            "fit",
            needs_y=True,
            steps=settings.steps_per_epoch,
            steps_name="steps_per_epoch",
        )
        validation = self._validation_set(
            train, validation_split, validation[0], settings.batch_size, device, validation[1]
        )
        if isinstance(train, ArrayData):
            self._check_arrays(train, "fit")
            if class_weight is not None:
                train.sample_weight = class_weights_to_samples(train, class_weight)
        if isinstance(validation, ArrayData):
            self._check_arrays(validation, "fit (validation data)")
        return train, validation

    def _new_run(
        self,
        settings: Settings,
        device: torch.device,
        world: distributed.World,
        data: tuple[Data, Data | None],
        callbacks: Sequence[Any] | None,
        verbose: int,
    ) -> Run:
        """The run of one fit: its step, its plan for the batches, its callbacks (History, a
        progress bar, BackupAndRestore last), its shuffling seed, where it starts."""
        optimizer = self.optimizer.torch_optimizer or self.optimizer.build(self.parameters())
        steps = data[0].steps(settings.batch_size)
        if settings.steps_per_epoch is not None:
            steps = min(settings.steps_per_epoch, steps)
        plan = _ahead.plan(self, data[0], settings.batch_size)  # the fast path, or Plan()
        step = self._train_step(optimizer, device, world, plan.start)
        if getattr(step, "auto_compile", None) is not None:  # jit_compile='auto' weighs the run
            step.auto_compile.planned_steps = steps * (settings.epochs - settings.initial_epoch)
        callback_list = CallbackList(
            callbacks_for_rank(callbacks, world),
            add_history=True,
            add_progbar=verbose != 0,
            model=self,
            verbose=verbose,
            epochs=settings.epochs,
            steps=steps,
        )
        callback_list.callbacks.sort(key=lambda c: getattr(c, "runs_last", False))
        seed = distributed.broadcast_int(int(torch.randint(2**62, (1,)).item()), device)
        return Run(
            epochs=settings.epochs,
            steps=steps,
            callbacks=callback_list,
            train=data[0],
            validation=data[1],
            settings=settings,
            step=step,
            outputs_are_logits=step.outputs_are_logits,
            plan=plan,
            world=world,
            device=device,
            shuffle_seed=seed,
            position=Position(settings.initial_epoch),
        )

    def _validation_set(
        self,
        train,
        split: float,
        data: Any,
        batch_size: int,
        device: torch.device,
        steps: int | None = None,
    ):
        """Keras' validation_data (a pair or triple, a Dataset, a PyDataset or a generator of
        ``steps`` batches) or validation_split."""
        what = "fit (validation data)"
        if data is not None:
            if not isinstance(data, (tuple, list)):
                return adapt_data(
                    data, None, None, batch_size, False, device, what, needs_y=True,
                    steps=steps, steps_name="validation_steps",
                )  # fmt: skip
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
        self,
        optimizer: torch.optim.Optimizer,
        device: torch.device,
        world: distributed.World,
        start: int,
    ) -> TrainStep:
        """Build (once per compile, optimizer, process group, precision and first layer) the
        step function; its batches enter at layer ``start`` (the layers before ran ahead)."""
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

    def _constraint_sources(self):
        for layer in self.modules():
            if not hasattr(layer, "_weight_constraints"):
                continue
            if any(c is not None for _, c in layer._weight_constraints()) or any(
                w.constraint is not None for w in layer.__dict__.get("_added_weights", ())
            ):
                yield layer
