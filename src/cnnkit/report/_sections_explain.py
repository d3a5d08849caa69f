"""What the network looks at: Grad-CAM maps of a few correctly and a few wrongly classified
test images (a handful, so the section costs one small backward pass)."""

from __future__ import annotations

import numpy as np

from cnnkit import explain, plots
from cnnkit.report._context import Context
from cnnkit.report._html import image, paragraph


def explanations(context: Context, per_kind: int = 6) -> str:
    """Grad-CAM over ``per_kind`` correct and ``per_kind`` misclassified sampled test images."""
    if not explain.spatial_layers(context.model):
        return paragraph(
            "The model has no layer with image-shaped outputs, so there is no Grad-CAM map to show."
        )
    context.progress("Grad-CAM maps")
    sample = context.test_sample
    right = context.predicted[sample] == context.y_test[sample]
    parts = [
        paragraph(
            "Grad-CAM (Selvaraju et al., 2017) of the last convolution block: red marks the "
            "regions that raise the predicted class's probability most, blue those that do not. "
            "For a mistake it shows what the wrong class was read from."
        )
    ]
    for kind, chosen in (("correctly classified", right), ("misclassified", ~right)):
        indices = sample[chosen][:per_kind]
        if not len(indices):
            parts.append(paragraph(f"No {kind} test images in the sample of {len(sample):,}."))
            continue
        parts.append(image(_figure(context, indices), f"Grad-CAM of {kind} test images",
                           f"Grad-CAM of {len(indices)} {kind} test images; titles give the true "
                           "and the predicted class with its probability."))  # fmt: skip
    return "".join(parts)


def _figure(context: Context, indices: np.ndarray):
    """The overlays of the test images at ``indices``, explained for their predicted class."""
    maps = explain.grad_cam(context.model, context.inputs(context.x_test[indices]))
    return plots.explanation(
        context.x_test[indices],
        maps,
        true=context.y_test[indices],
        probabilities=context.probabilities[indices],
        class_names=context.class_names,
        columns=len(indices),
    )
