"""How well the model does: test accuracy, confusions, mistakes, and the kNN comparison."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from cnnkit import inspect, plots
from cnnkit.report._comparison import Row, verdict
from cnnkit.report._context import Context
from cnnkit.report._html import image, pair, paragraph, table
from cnnkit.report._knn import baseline_rows


def test_accuracy(context: Context) -> float:
    """Fraction of test images the model classifies correctly."""
    return float(np.mean(context.predicted == context.y_test))


def evaluation(context: Context) -> str:
    """Test accuracy, per-class recall, and the confusion matrix as counts and normalised."""
    context.progress("confusion matrices")
    names = context.class_names
    accuracy = test_accuracy(context)
    counts = plots.confusion_matrix(context.y_test, context.predicted, names)
    rates = plots.confusion_matrix(context.y_test, context.predicted, names, normalize=True)
    text = paragraph(
        f"Test accuracy: {accuracy:.4f} ({int(np.sum(context.predicted == context.y_test)):,} of "
        f"{len(context.y_test):,} test images)."
    )
    note = "" if len(names) <= 20 else " Too many classes to print each cell: read the colours."
    return text + pair(
        image(counts, "confusion matrix (counts)", "Counts: row = true class, column = predicted."),
        image(
            rates,
            "confusion matrix (normalised)",
            "Each row divided by its class size; the diagonal is each class's recall." + note,
        ),
    )


def misclassified(context: Context) -> str:
    """The first misclassified test images with true and predicted classes."""
    context.progress("misclassified images")
    figure = plots.misclassified(
        context.x_test, context.y_test, context.probabilities, context.class_names, max_images=24
    )
    return image(
        figure,
        "misclassified test images",
        "True and predicted class, with the predicted class's probability.",
    )


def comparison(context: Context, knn: Any, models: Mapping[str, float] | None = None) -> str:
    """CNN accuracy next to k-NN baselines (and other models), what that means, and
    neighbourhood scores in pixel vs latent space."""
    sample = context.test_sample
    tested = len(context.y_test)
    name = getattr(context.model, "name", "CNN")
    this_model = f"{name} (this model)" if models else "CNN (this model)"
    rows = [Row(str(other), tested, float(value), "cnn") for other, value in (models or {}).items()]
    rows.append(Row(this_model, tested, test_accuracy(context), "cnn", short=name))
    if knn is None and len(sample) < tested:
        same = float(np.mean(context.predicted[sample] == context.y_test[sample]))
        rows.append(Row("CNN on the test images the kNN rows use", len(sample), same, "cnn sample"))
    rows += baseline_rows(context, knn)
    meaning = verdict(rows)
    context.progress(f"neighbourhood scores of {len(sample):,} test images")
    scores = inspect.neighbourhood_scores(
        context.x_test[sample],
        context.test_features,
        context.y_test[sample],
        k=min(context.knn_k, len(sample) - 1),
    )
    neighbourhood = table(
        ["space", "leave-one-out kNN accuracy", "neighbours with the same class"],
        [
            (space, values["knn_accuracy"], values["neighbour_agreement"])
            for space, values in (
                ("pixels", scores["pixels"]),
                ("CNN latent vectors", scores["latent"]),
            )
        ],
    )
    return (
        table(["method", "test images", "accuracy"], [row.cells() for row in rows])
        + (paragraph(meaning) if meaning else "")
        + "<h3>Are near neighbours of the same class?</h3>"
        + paragraph(
            f"For each of {len(sample):,} test images, its {min(context.knn_k, len(sample) - 1)} "
            "nearest other test images (Euclidean distance), once by pixels and once by the "
            "latent vector the classifier sees. Higher is better: distances in the latent space "
            "mean more than distances between pixels when these numbers are higher for it."
        )
        + neighbourhood
    )
