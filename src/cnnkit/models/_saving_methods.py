"""A model's file methods: ``save``, ``save_weights``, ``load_weights``, and the training
state BackupAndRestore writes and reads back during ``fit``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from cnnkit.models import _model_file
from cnnkit.training import _resume, _resume_checks


class SavingMethods:
    """Keras' file methods of a model; the formats live in ``models/_model_file.py``."""

    def save(self, filepath: str, include_optimizer: bool = True) -> None:
        """Save architecture, weights, compile settings and optimizer state in one file
        (safetensors with JSON metadata; any extension). The write is atomic."""
        _model_file.save_model(self, filepath, include_optimizer)

    def save_weights(self, filepath: str) -> None:
        """Save only the weights (atomically), for ``load_weights``."""
        _model_file.save_weights(self, filepath)

    def load_weights(self, filepath: str) -> None:
        """Load weights written by ``save_weights`` or ``save`` into this model."""
        _model_file.load_weights(self, filepath)

    def export(
        self,
        filepath: str | os.PathLike,
        format: str = "onnx",
        verbose: bool | None = None,
        opset_version: int | None = None,
        class_names: list[str] | None = None,
        quantize: str | None = None,
        calibration_data: Any = None,
    ) -> Path:
        """Write the inference graph (preprocessing included, augmentation left out) as
        ``"onnx"`` or ``"torchscript"``, for serving without cnnkit; see
        ``cnnkit.export.export_model``; ``quantize="int8"`` with ``calibration_data``
        writes ONNX Runtime's static int8 graph. Keras' ``export`` takes the same first
        arguments."""
        from cnnkit.export import export_model

        return export_model(
            self,
            filepath,
            format,
            verbose,
            opset_version,
            class_names,
            quantize=quantize,
            calibration_data=calibration_data,
        )

    def save_training_state(
        self, filepath: str | os.PathLike, epoch: int, mid_epoch: bool = False
    ) -> None:
        """Write weights, optimizer and the run's state after ``epoch`` ends, or, with
        ``mid_epoch``, after the batch just finished (used by BackupAndRestore)."""
        run = self._current_run
        if run is None:
            raise ValueError("save_training_state is only meaningful during fit")
        _model_file.save_model(self, filepath, extra=_resume.capture(self, run, epoch, mid_epoch))

    def resume_from(self, filepath: str | os.PathLike) -> None:
        """Load a backup written by :meth:`save_training_state` (checked whole first); the
        running fit continues where it was taken."""
        run = self._current_run
        if run is None:
            raise ValueError("resume_from is only meaningful during fit (BackupAndRestore)")
        context = _resume_checks.ResumeContext(
            self, run.epochs, run.steps, run.plan.group, run.callbacks.callbacks
        )
        run.restored = _resume_checks.restore_checked(
            self, filepath, context, _model_file.restore_into
        )
