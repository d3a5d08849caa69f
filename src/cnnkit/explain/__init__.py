"""Explain a CNN's decisions: which pixels or regions of an image drive a class's score.

Every method takes a cnnkit model, images (n, height, width, channels) as for ``predict`` and
``target`` (``None`` for the predicted class), and returns NumPy maps (n, height, width).

- ``grad_cam`` / ``grad_cam_plus_plus``: class activation maps of a convolution layer.
"""

from __future__ import annotations

from cnnkit.explain._cam import grad_cam as grad_cam
from cnnkit.explain._cam import grad_cam_plus_plus as grad_cam_plus_plus
from cnnkit.explain._layers import spatial_layers as spatial_layers

__all__ = ["grad_cam", "grad_cam_plus_plus", "spatial_layers"]
