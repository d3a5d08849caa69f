"""The report's first sections: what the data is, what the model is, how training went."""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np

from cnnkit import plots
from cnnkit.report._context import Context
from cnnkit.report._html import escape, image, paragraph, table


def dataset(context: Context) -> str:
    """Sizes, image shape and value range, images per class, and a sample grid."""
    context.progress("dataset summary and samples")
    x_train, x_test = context.x_train, context.x_test
    channels = 1 if x_train.ndim == 3 else x_train.shape[-1]
    rows = [
        ("training images", len(x_train)),
        ("test images", len(x_test)),
        ("image shape", f"{x_train.shape[1]} x {x_train.shape[2]} x {channels}"),
        (
            "kind",
            "grayscale" if channels == 1 else "RGB" if channels == 3 else f"{channels} channels",
        ),
        ("pixel type and range", f"{x_train.dtype}, {x_train.min():g} to {x_train.max():g}"),
        ("classes", len(context.class_names)),
    ]
    train_counts = np.bincount(context.y_train, minlength=len(context.class_names))
    test_counts = np.bincount(context.y_test, minlength=len(context.class_names))
    per_class = table(
        ["class", "name", "training", "test"],
        [
            (i, name, int(train_counts[i]), int(test_counts[i]))
            for i, name in enumerate(context.class_names)
        ],
    )
    many = len(context.class_names) > 20
    figure = plots.samples(x_train, context.y_train, context.class_names, seed=context.seed)
    caption = (
        "One random training image per class."
        if many
        else "Random training images, one row per class."
    )
    return (
        table(None, rows)
        + f"<details{'' if many else ' open'}><summary>Images per class</summary>{per_class}</details>"
        + image(figure, "sample images of each class", caption)
    )


def model(context: Context) -> str:
    """The layer table of ``model.summary()``, with the parameter arithmetic where supported."""
    summary_text = context.model.summary_text
    try:
        with_formulas = "formulas" in inspect.signature(summary_text).parameters
    except (TypeError, ValueError):
        with_formulas = False
    text = summary_text(formulas=True) if with_formulas else summary_text()
    return f"<pre>{escape(text)}</pre>" + paragraph(
        "Output shapes are (batch, height, width, channels) for image volumes; None is the "
        "batch size.",
        "note",
    )


def training(context: Context, history: Any) -> str:
    """Learning curves and the last epoch's values."""
    if history is None:
        return paragraph("No training history was given (pass the History that fit returns).")
    context.progress("training curves")
    logs = getattr(history, "history", history)
    figure = plots.history(history)
    last = [(name, f"{float(values[-1]):.4g}") for name, values in logs.items() if len(values)]
    epochs = max((len(values) for values in logs.values()), default=0)
    return (
        image(figure, "training curves", _curves_caption(logs, epochs))
        + paragraph(f"After {epochs} epoch{'' if epochs == 1 else 's'}:")
        + table(["quantity", "last epoch"], last)
    )


def _curves_caption(logs: Any, epochs: int) -> str:
    """Say only what the figure draws: validation curves exist only with validation data."""
    has_validation = any(str(name).startswith("val_") and len(v) for name, v in logs.items())
    if epochs == 1:
        drawn = "Training (circles) and validation (squares)" if has_validation else "Training"
        return f"{drawn} values after the one epoch."
    if has_validation:
        return "Training (solid) and validation (dashed) per epoch."
    return "Training values per epoch (the history has no validation values)."
