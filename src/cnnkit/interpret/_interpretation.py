"""Error analysis of a trained classifier: one prediction pass over the data, then cheap
views of where it goes wrong (the worst losses, the classes it confuses, per-class scores)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from cnnkit._validation import check_int
from cnnkit.interpret import _metrics
from cnnkit.interpret._checks import (
    check_class_names,
    check_file_paths,
    check_labels,
    check_probabilities,
    to_probabilities,
)
from cnnkit.interpret._data import gather
from cnnkit.interpret._top_losses_figure import top_losses_figure


@dataclass(frozen=True)
class LossRecord:
    """One example among the worst predicted: what it is, what the model said, how bad."""

    index: int
    true: str | int
    predicted: str | int
    true_probability: float
    predicted_probability: float
    loss: float
    file_path: str | None = None


class Interpretation:
    """Where a classifier goes wrong, from its class probabilities on some labelled data.

    Args:
        probabilities: (n, classes) predicted class probabilities, rows summing to 1.
        y: (n,) true integer labels (or one-hot rows).
        images: (n, height, width[, channels]) the images, for ``plot_top_losses``.
        class_names: one name per class, for the records and the report.
        file_paths: the file of each image, shown in ``top_losses``.
        model: the model that predicted, whose latent space ``plot_top_losses`` searches.

    Example:
        >>> interp = Interpretation.from_model(model, x_test, y_test, class_names=names)
        >>> interp.top_losses(5)[0].loss  # the worst example's cross-entropy
        >>> interp.most_confused(min_count=10)  # [("Shirt", "T-shirt/top", 97), ...]
    """

    def __init__(
        self,
        probabilities: Any,
        y: Any,
        images: Any = None,
        class_names: Sequence[str] | None = None,
        file_paths: Sequence[str] | None = None,
        model: Any = None,
    ) -> None:
        owner = "Interpretation"
        self.probabilities = check_probabilities(probabilities, "probabilities", owner)
        n, n_classes = self.probabilities.shape
        self.labels = check_labels(y, "y", owner, n=n, n_classes=n_classes)
        if images is not None and len(images) != n:
            raise ValueError(f"{owner}: images has {len(images)} images but there are {n} labels")
        self.images = images
        self.class_names = check_class_names(class_names, n_classes, owner)
        self.file_paths = check_file_paths(file_paths, n, owner)
        self.model = model

    @classmethod
    def from_model(
        cls,
        model: Any,
        x: Any,
        y: Any = None,
        class_names: Sequence[str] | None = None,
        file_paths: Sequence[str] | None = None,
        batch_size: int = 128,
        from_logits: bool | None = None,
    ) -> Interpretation:
        """Predict ``x`` once with ``model`` and keep the probabilities, labels and images.

        Args:
            model: a trained classifier with ``predict``.
            x: (n, height, width, channels) images with labels ``y``, or a dataset of (image,
                label) pairs (an image-folder dataset, the Dataset of
                ``image_dataset_from_directory``), whose ``class_names`` and ``file_paths``
                are used unless given; a dataset is loaded into memory.
            y: (n,) integer labels (or one-hot rows); None with a dataset.
            class_names: as for the constructor.
            file_paths: as for the constructor.
            batch_size: images per prediction batch.
            from_logits: whether the model outputs logits; None tells from the outputs
                (rows in [0, 1] summing to 1 are probabilities).
        """
        owner = "Interpretation.from_model"
        batch_size = check_int(batch_size, "batch_size", owner, minimum=1)
        samples = gather(x, y, owner)
        outputs = model.predict(samples.images, batch_size=batch_size, verbose=0)
        return cls(
            to_probabilities(outputs, from_logits, owner),
            samples.targets,
            images=samples.images,
            class_names=class_names if class_names is not None else samples.class_names,
            file_paths=file_paths if file_paths is not None else samples.file_paths,
            model=model,
        )

    @property
    def predicted(self) -> np.ndarray:
        """(n,) the predicted class of each example (argmax of the probabilities)."""
        return self.probabilities.argmax(axis=1)

    @property
    def losses(self) -> np.ndarray:
        """(n,) cross-entropy of each example: -log p(true class)."""
        true = self.probabilities[np.arange(len(self.labels)), self.labels]
        with np.errstate(divide="ignore"):
            return -np.log(true)

    def name(self, label: int) -> str | int:
        """The class name of ``label`` when names are known, else the label itself."""
        return self.class_names[label] if self.class_names is not None else int(label)

    def top_losses(self, k: int | None = None) -> list[LossRecord]:
        """The ``k`` examples with the largest loss (all when None), worst first; equal losses
        keep data order."""
        order = np.argsort(-self.losses, kind="stable")
        if k is not None:
            order = order[: check_int(k, "k", "top_losses", minimum=1)]
        predicted, losses = self.predicted, self.losses
        return [
            LossRecord(
                index=int(i),
                true=self.name(self.labels[i]),
                predicted=self.name(predicted[i]),
                true_probability=float(self.probabilities[i, self.labels[i]]),
                predicted_probability=float(self.probabilities[i, predicted[i]]),
                loss=float(losses[i]),
                file_path=None if self.file_paths is None else self.file_paths[i],
            )
            for i in order
        ]

    def most_confused(self, min_count: int = 1) -> list[tuple[str | int, str | int, int]]:
        """(true, predicted, count) for each pair of different classes confused at least
        ``min_count`` times, the most frequent first."""
        min_count = check_int(min_count, "min_count", "most_confused", minimum=1)
        counts = self.confusion_matrix()
        np.fill_diagonal(counts, 0)
        pairs = [(int(counts[t, p]), t, p) for t, p in zip(*np.nonzero(counts >= min_count))]
        pairs.sort(key=lambda pair: (-pair[0], pair[1], pair[2]))
        return [(self.name(t), self.name(p), count) for count, t, p in pairs]

    def confusion_matrix(self, normalize: str | None = None) -> np.ndarray:
        """(classes, classes) row = true, column = predicted, as ``sklearn.metrics.
        confusion_matrix``; ``normalize`` None (counts), 'true', 'pred' or 'all'."""
        n_classes = self.probabilities.shape[1]
        return _metrics.confusion_matrix(self.labels, self.predicted, n_classes, normalize)

    def classification_report(self) -> dict[str, Any]:
        """Precision, recall, F1, support per class, macro and weighted averages, accuracy:
        ``sklearn.metrics.classification_report(..., output_dict=True)``'s dictionary."""
        names = self.class_names or [str(i) for i in range(self.probabilities.shape[1])]
        return _metrics.classification_report(self.labels, self.predicted, names)

    def plot_top_losses(
        self,
        k: int = 9,
        train: tuple[Any, Any] | None = None,
        neighbors: int = 3,
        maps: Any = "grad_cam",
        save: str | os.PathLike | None = None,
    ) -> Figure:
        """Show the ``k`` worst examples: each image with true and predicted class and their
        probabilities, then its nearest training images in the model's latent space.

        Args:
            k: examples shown, worst first.
            train: ``(x_train, y_train)``; with it and the model, each row also shows the
                ``neighbors`` training images whose latent vectors (``cnnkit.inspect.
                features``) lie nearest.
            neighbors: training images per row.
            maps: heat maps drawn over the images: 'grad_cam' (the default: the predicted
                class's Grad-CAM when the model has a convolution layer, else none), None,
                an (n, height, width) array for every example, or a function
                ``maps(model, images) -> (k, h, w)``.
            save: write the figure as a PNG to this path.
        """
        if self.images is None:
            raise ValueError(
                "plot_top_losses: this Interpretation has no images; build it with "
                "from_model or pass images="
            )
        k = check_int(k, "k", "plot_top_losses", minimum=1)
        return top_losses_figure(self, self.top_losses(k), train, neighbors, maps, save)
