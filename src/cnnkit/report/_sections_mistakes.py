"""The report's "mistakes" section: the test images with the largest loss and the pairs of
classes the model confuses most, from ``cnnkit.interpret.Interpretation`` (no extra pass)."""

from __future__ import annotations

import numpy as np

from cnnkit.interpret import Interpretation
from cnnkit.report._context import Context
from cnnkit.report._html import escape, paragraph, table
from cnnkit.report._thumbnails import image_table, thumbnail

#: Test images shown with the largest losses, and confused pairs listed.
TOP_LOSSES, CONFUSED_PAIRS = 8, 10


def probabilities(outputs: np.ndarray) -> np.ndarray:
    """The model's outputs as class probabilities: kept when they already are, else a softmax
    of the logits."""
    values = np.asarray(outputs, dtype=np.float64)
    if values.min() >= 0 and values.max() <= 1 and np.allclose(values.sum(axis=1), 1, atol=1e-3):
        return values / values.sum(axis=1, keepdims=True)
    shifted = np.exp(values - values.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def interpretation(context: Context) -> Interpretation:
    """The test set's Interpretation, from the predictions other sections already made."""
    return Interpretation(
        probabilities(context.probabilities),
        context.y_test,
        images=context.x_test,
        class_names=context.class_names,
        model=context.model,
    )


def mistakes(context: Context) -> str:
    """The worst test predictions (image, true and predicted class, probabilities, loss) and
    the most confused (true, predicted) pairs."""
    context.progress("largest losses and most confused classes")
    interp = interpretation(context)
    rows = [
        [
            thumbnail(context.x_test[record.index], f"test image {record.index}"),
            escape(record.index),
            escape(record.true),
            escape(record.predicted),
            f"{record.true_probability:.3f}",
            f"{record.predicted_probability:.3f}",
            f"{record.loss:.3f}",
        ]
        for record in interp.top_losses(min(TOP_LOSSES, len(interp.labels)))
    ]
    worst = image_table(
        ["image", "test index", "true", "predicted", "p(true)", "p(predicted)", "loss"], rows
    )
    pairs = interp.most_confused()[:CONFUSED_PAIRS]
    confused = (
        table(["true class", "predicted as", "test images"], pairs)
        if pairs
        else paragraph("No test image is misclassified.", "note")
    )
    return (
        paragraph(
            "The test images the model is most wrong about: largest cross-entropy loss "
            "-log p(true class) first. A confident mistake is often a wrong or ambiguous label."
        )
        + worst
        + "<h3>Most confused classes</h3>"
        + confused
    )
