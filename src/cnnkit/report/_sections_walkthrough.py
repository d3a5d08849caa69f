"""The report's "walkthrough" section: a few test images, correct and wrong, each followed
through every layer on its own page written beside ``report.html`` and linked from here."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cnnkit.report._context import Context
from cnnkit.report._html import escape, paragraph
from cnnkit.report._thumbnails import image_table, thumbnail
from cnnkit.report._walkthrough import walkthrough

#: Folder (beside report.html) of the walkthrough pages.
FOLDER = "walkthrough"
#: Models with more parameters get no walkthrough pages (each page embeds every weight).
MAX_PARAMETERS = 2_000_000


def chosen_images(context: Context, count: int) -> list[int]:
    """Test image indices: about half misclassified, the rest correct, lowest indices first."""
    right = np.flatnonzero(context.predicted == context.y_test)
    wrong = np.flatnonzero(context.predicted != context.y_test)
    n_wrong = min(len(wrong), count - min(len(right), count // 2))
    return sorted([*wrong[:n_wrong].tolist(), *right[: count - n_wrong].tolist()])


def walkthroughs(context: Context, folder: Path, count: int) -> str:
    """Write ``count`` walkthrough pages into ``folder/walkthrough`` and link them."""
    if count == 0:
        return paragraph(
            "No walkthrough pages: pass walkthroughs=N to report.build to follow N test images "
            "through every layer (cnnkit train writes 4).",
            "note",
        )
    if context.model.count_params() > MAX_PARAMETERS:
        return paragraph(
            f"No walkthrough pages: the model has over {MAX_PARAMETERS:,} parameters and each "
            "page embeds them all. Use cnnkit.report.walkthrough on a smaller model.",
            "note",
        )
    context.progress(f"walkthrough pages for {count} test images")
    rows = []
    for index in chosen_images(context, count):
        true, predicted = context.y_test[index], context.predicted[index]
        caption = (
            f"Test image {index}: true class {context.class_names[true]}, predicted "
            f"{context.class_names[predicted]}"
        )
        try:
            path = walkthrough(
                context.model,
                context.inputs(context.x_test[index : index + 1]),
                folder / FOLDER / f"test-{index}.html",
                batch_size=context.batch_size,
                class_names=context.class_names[: context.probabilities.shape[1]],
                caption=caption,
            )
        except ValueError as error:  # e.g. a model that branches: say so instead of failing
            return paragraph(f"No walkthrough pages: {error}", "note")
        link = f'<a href="{FOLDER}/{escape(path.name)}">{escape(path.name)}</a>'
        verdict = "correct" if true == predicted else "wrong"
        rows.append(
            [
                thumbnail(context.x_test[index], f"test image {index}"),
                escape(context.class_names[true]),
                escape(context.class_names[predicted]),
                verdict,
                link,
            ]
        )
    intro = paragraph(
        "Each page follows one test image through every layer: click a neuron to see its input "
        "window, kernel, products, sum plus bias and activation."
    )
    return intro + image_table(["image", "true", "predicted", "", "page"], rows)
