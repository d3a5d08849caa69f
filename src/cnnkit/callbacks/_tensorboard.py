"""TensorBoard: write Keras-compatible event files (no TensorFlow needed) for learning curves."""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from numbers import Real
from typing import Any

import numpy as np

from cnnkit._validation import check_int
from cnnkit.callbacks._base import Callback, Logs

__all__ = ["TensorBoard"]


def _summary_writer_class() -> Any:
    """Import torch's event-file writer, which needs the ``tensorboard`` package."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError as err:
        raise ImportError(
            "TensorBoard callback needs the 'tensorboard' package: pip install tensorboard"
        ) from err
    return SummaryWriter


def _scalar(value: Any) -> float | None:
    """Return ``value`` as a float if it is a real number (or 0-d array), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, Real):
        return float(value)
    if getattr(value, "ndim", None) == 0 or getattr(value, "shape", None) == ():
        return float(value)
    return None


def _layer_weight_names(layer: Any, count: int) -> list[str]:
    """Name a layer's ``count`` weights: parameter names of a torch module, else kernel/bias."""
    named = getattr(layer, "named_parameters", None)
    if callable(named):
        names = [name for name, _ in named()]
        if len(names) == count:
            return names
    variables = getattr(layer, "weights", None)
    if isinstance(variables, (list, tuple)) and len(variables) == count:
        names = [getattr(v, "path", getattr(v, "name", "")) for v in variables]
        if all(isinstance(n, str) and n for n in names):
            return [n.rsplit("/", 1)[-1].replace(":", "_") for n in names]
    return ["kernel", "bias"] if count == 2 else [f"weight_{i}" for i in range(count)]


def named_weights(model: Any) -> list[tuple[str, np.ndarray]]:
    """Return ``(tag, array)`` per weight: ``layer/kernel`` when layers are known, else indices."""
    layers = getattr(model, "layers", None)
    pairs: list[tuple[str, np.ndarray]] = []
    if layers and all(callable(getattr(layer, "get_weights", None)) for layer in layers):
        for index, layer in enumerate(layers):
            weights = layer.get_weights()
            prefix = str(getattr(layer, "name", "") or f"layer_{index}")
            names = _layer_weight_names(layer, len(weights))
            pairs += [(f"{prefix}/{n}", np.asarray(w)) for n, w in zip(names, weights, strict=True)]
    else:
        pairs = [(f"weight_{i}", np.asarray(w)) for i, w in enumerate(model.get_weights())]
    seen: dict[str, int] = {}
    unique = []
    for tag, array in pairs:  # two layers may share a name
        seen[tag] = seen.get(tag, 0) + 1
        unique.append((tag if seen[tag] == 1 else f"{tag}_{seen[tag] - 1}", array))
    return unique


class TensorBoard(Callback):
    """Log learning curves (and optionally weight histograms) for TensorBoard, like Keras.

    Writes to ``log_dir/train`` and ``log_dir/validation``: per-epoch scalars ``epoch_loss``,
    ``epoch_accuracy``, ... (validation values under the same tags in ``validation/``) and
    ``epoch_learning_rate`` when the optimizer has one. View with
    ``tensorboard --logdir logs``.

    Args:
        log_dir: Folder for the event files.
        histogram_freq: Every N epochs, write a histogram of each weight (0: never).
        write_graph: Write the model's architecture (its text form) at step 0. A
            computation graph would need example inputs, which callbacks do not see.
        update_freq: 'epoch'; or 'batch' / an int N to also write ``batch_*`` scalars
            every N training batches, at the global batch number.
        write_images: With the histograms, also write each 2-D weight and each convolution
            kernel as images (``<layer>/<weight>/image``): one image per filter, RGB for
            3 input channels, else the filter's first input channel, scaled to [0, 1].
        write_steps_per_second: Also write ``epoch_steps_per_second`` (training batches
            per second of the epoch).
        embeddings_freq: Accepted for Keras code; cnnkit has no Embedding layer, so nothing
            is written (see ``cnnkit.plots`` for embeddings of images).
        embeddings_metadata: Accepted with embeddings_freq; not used.
        profile_batch: Accepted for Keras code (0, a batch number or a (start, stop) pair);
            no profile is written: use ``torch.profiler`` around ``fit`` instead.

    Example:
        >>> tb = TensorBoard(log_dir="logs/run1", histogram_freq=1)
        >>> # model.fit(x, y, validation_split=0.2, epochs=10, callbacks=[tb])
    """

    writes_files = True  # under torchrun only rank 0 runs it

    def __init__(
        self,
        log_dir: str | os.PathLike[str] = "logs",
        histogram_freq: int = 0,
        write_graph: bool = False,
        write_images: bool = False,
        write_steps_per_second: bool = False,
        update_freq: str | int = "epoch",
        profile_batch: int | tuple[int, int] = 0,
        embeddings_freq: int = 0,
        embeddings_metadata: str | dict[str, str] | None = None,
    ) -> None:
        super().__init__()
        _check_keras_only(profile_batch, embeddings_freq, embeddings_metadata)
        self.profile_batch, self.embeddings_freq = profile_batch, embeddings_freq
        self.embeddings_metadata = embeddings_metadata
        for name, flag in (
            ("write_images", write_images),
            ("write_steps_per_second", write_steps_per_second),
        ):
            if not isinstance(flag, bool):
                raise TypeError(f"TensorBoard: {name} must be True or False. Received: {flag!r}")
        self.write_images, self.write_steps_per_second = write_images, write_steps_per_second
        self._epoch_start, self._epoch_batches = 0.0, 0
        if not isinstance(log_dir, (str, os.PathLike)) or not os.fspath(log_dir):
            raise TypeError(f"TensorBoard: log_dir must be a non-empty path. Received: {log_dir!r}")
        self._writer_class = _summary_writer_class()
        self.log_dir = os.fspath(log_dir)
        self.histogram_freq = check_int(histogram_freq, "histogram_freq", "TensorBoard", minimum=0)
        self.write_graph = bool(write_graph)
        if update_freq == "batch":
            update_freq = 1
        elif update_freq != "epoch":
            if isinstance(update_freq, str):
                raise ValueError(
                    "TensorBoard: update_freq must be 'epoch', 'batch' or an int >= 1. "
                    f"Received: update_freq={update_freq!r}"
                )
            update_freq = check_int(update_freq, "update_freq", "TensorBoard", minimum=1)
        self.update_freq = update_freq
        self._writers: dict[str, Any] = {}
        self._global_batch = 0

    def _writer(self, which: str) -> Any:
        """Return the ``train`` or ``validation`` writer, creating it on first use."""
        if which not in self._writers:
            self._writers[which] = self._writer_class(os.path.join(self.log_dir, which))
        return self._writers[which]

    def on_train_begin(self, logs: Logs | None = None) -> None:
        """Restart the batch counter; write the architecture if asked."""
        self._global_batch = 0
        if self.write_graph and self.model is not None:
            self._writer("train").add_text("model", f"```\n{self.model!r}\n```", 0)

    def on_train_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        """Every ``update_freq`` batches, write ``batch_<name>`` scalars."""
        self._global_batch += 1
        self._epoch_batches += 1
        if self.update_freq == "epoch" or self._global_batch % self.update_freq:
            return
        self._write_scalars("train", "batch_", logs or {}, self._global_batch)

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        """Start the clock for steps_per_second."""
        self._epoch_start, self._epoch_batches = time.perf_counter(), 0

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        """Write the epoch's scalars (and histograms when due), then flush."""
        logs = logs or {}
        train = {k: v for k, v in logs.items() if not k.startswith("val_")}
        learning_rate = getattr(getattr(self.model, "optimizer", None), "learning_rate", None)
        if _scalar(learning_rate) is not None:
            train["learning_rate"] = learning_rate
        if self.write_steps_per_second:
            seconds = max(time.perf_counter() - self._epoch_start, 1e-9)
            train["steps_per_second"] = self._epoch_batches / seconds
        validation = {k[4:]: v for k, v in logs.items() if k.startswith("val_")}
        self._write_scalars("train", "epoch_", train, epoch)
        self._write_scalars("validation", "epoch_", validation, epoch)
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            self._write_histograms(epoch)
            if self.write_images:
                self._write_images(epoch)
        for writer in self._writers.values():
            writer.flush()

    def on_train_end(self, logs: Logs | None = None) -> None:
        """Close the event files."""
        for writer in self._writers.values():
            writer.close()
        self._writers = {}

    def _write_scalars(self, which: str, prefix: str, values: Mapping[str, Any], step: int) -> None:
        scalars = {k: _scalar(v) for k, v in values.items()}
        scalars = {k: v for k, v in scalars.items() if v is not None}
        if not scalars:
            return
        writer = self._writer(which)
        for name, value in scalars.items():
            writer.add_scalar(prefix + name, value, step)

    def _write_histograms(self, epoch: int) -> None:
        writer = self._writer("train")
        for tag, array in named_weights(self.model):
            values = array.astype(np.float64, copy=False).ravel()
            values = values[np.isfinite(values)]  # a histogram of NaN/inf is undefined
            if values.size:
                writer.add_histogram(f"{tag}/histogram", values, epoch)

    def _write_images(self, epoch: int) -> None:
        writer = self._writer("train")
        for tag, array in named_weights(self.model):
            images = weight_images(array)
            if images is not None:
                writer.add_images(f"{tag}/image", images, epoch, dataformats="NHWC")


def weight_images(array: np.ndarray) -> np.ndarray | None:
    """A weight as (images, height, width, channels) in [0, 1], each image scaled on its own:
    a 2-D weight as one grey image, a (height, width, in, filters) kernel as one image per
    filter (RGB for 3 input channels, else the first input channel); None for other ranks."""
    values = np.nan_to_num(np.asarray(array, dtype=np.float32))
    if values.ndim == 2:
        images = values[None, :, :, None]
    elif values.ndim == 4:
        images = np.transpose(values, (3, 0, 1, 2))
        images = images if images.shape[-1] == 3 else images[..., :1]
    else:
        return None
    low = images.min(axis=(1, 2, 3), keepdims=True)
    span = images.max(axis=(1, 2, 3), keepdims=True) - low
    return (images - low) / np.where(span > 0, span, 1.0)


def _check_keras_only(profile_batch: Any, embeddings_freq: Any, metadata: Any) -> None:
    """Check the arguments kept for Keras code (they write nothing in cnnkit)."""
    check_int(embeddings_freq, "embeddings_freq", "TensorBoard", minimum=0)
    if metadata is not None and not isinstance(metadata, (str, dict)):
        raise TypeError(
            "TensorBoard: embeddings_metadata must be a file name, a dict of file names or "
            f"None. Received: {metadata!r}"
        )
    pair = isinstance(profile_batch, (tuple, list)) and len(profile_batch) == 2
    numbers = profile_batch if pair else [profile_batch]
    if not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in numbers):
        raise ValueError(
            "TensorBoard: profile_batch must be an int >= 0 or a pair of them (start, stop). "
            f"Received: profile_batch={profile_batch!r}"
        )
