"""Explain a CNN's decisions: which pixels or regions of an image drive a class's score.

Every method takes a cnnkit model, images (n, height, width, channels) as for ``predict`` and
``target`` (``None`` for the predicted class; a class index, one per image, or class names
when the model has ``class_names``), and returns NumPy maps (n, height, width). The score
explained is the model's output as is (a probability for a model ending in softmax, as
Captum sees the same model). The model's weights, gradients, ``requires_grad`` flags and
training mode, and the global random states, are left as they were.

- ``grad_cam`` / ``grad_cam_plus_plus``: class activation maps of a convolution layer.
- ``saliency`` / ``smooth_grad``: input gradients, plain or averaged over noisy copies.
- ``integrated_gradients``: attributions that add up to the score's change from a baseline.
- ``occlusion``: the score lost when each patch of the image is covered.
- ``deletion_score``: whether deleting a map's top pixels lowers the class probability more
  than deleting as many random pixels (a check that a map is faithful to the model).
- ``spatial_layers``: the layers ``grad_cam`` can read.
"""

from __future__ import annotations

from cnnkit.explain._cam import grad_cam as grad_cam
from cnnkit.explain._cam import grad_cam_plus_plus as grad_cam_plus_plus
from cnnkit.explain._faithfulness import DeletionScore as DeletionScore
from cnnkit.explain._faithfulness import deletion_score as deletion_score
from cnnkit.explain._gradients import saliency as saliency
from cnnkit.explain._gradients import smooth_grad as smooth_grad
from cnnkit.explain._integrated import IntegratedGradientsResult as IntegratedGradientsResult
from cnnkit.explain._integrated import integrated_gradients as integrated_gradients
from cnnkit.explain._layers import spatial_layers as spatial_layers
from cnnkit.explain._occlusion import occlusion as occlusion

__all__ = [
    "DeletionScore",
    "IntegratedGradientsResult",
    "deletion_score",
    "grad_cam",
    "grad_cam_plus_plus",
    "integrated_gradients",
    "occlusion",
    "saliency",
    "smooth_grad",
    "spatial_layers",
]
