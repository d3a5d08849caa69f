"""Pictures of training and of a CNN's inside, as matplotlib Figures (no display needed).

Every function returns a ``matplotlib.figure.Figure``; ``save=path`` also writes it as a PNG
(atomically). Images may be grayscale or RGB, uint8 or float.

- ``history``: loss and metrics per epoch, training vs validation.
- ``lr_find``: the learning-rate range test's loss curve and its suggestion.
- ``samples``: a few images of each class.
- ``activation_maps``, ``filters``: each layer's output channels; the learned kernels.
- ``confusion_matrix``, ``misclassified``: where the classifier goes wrong.
- ``embedding``: a t-SNE map coloured by class, optionally with thumbnails.
- ``explanation``, ``explanation_grid``: explanation maps (``cnnkit.explain``) over their
  images, one method or several side by side.
- ``neighbors``: an image and its nearest images, with distances.
- ``plot_model``, ``model_to_dot``: a model's layers and connections, as a picture file or
  DOT text (also in ``cnnkit.utils``, as in Keras).
"""

from __future__ import annotations

from cnnkit.plots._classification import confusion_matrix as confusion_matrix
from cnnkit.plots._classification import misclassified as misclassified
from cnnkit.plots._embedding import embedding as embedding
from cnnkit.plots._embedding import neighbors as neighbors
from cnnkit.plots._explanation import explanation as explanation
from cnnkit.plots._explanation import explanation_grid as explanation_grid
from cnnkit.plots._figure import png_bytes as png_bytes
from cnnkit.plots._history import history as history
from cnnkit.plots._layers import activation_maps as activation_maps
from cnnkit.plots._layers import filters as filters
from cnnkit.plots._lr_find import lr_find as lr_find
from cnnkit.plots._model_plot import model_to_dot as model_to_dot
from cnnkit.plots._model_plot import plot_model as plot_model
from cnnkit.plots._samples import samples as samples

__all__ = [
    "activation_maps",
    "confusion_matrix",
    "embedding",
    "explanation",
    "explanation_grid",
    "filters",
    "history",
    "lr_find",
    "misclassified",
    "model_to_dot",
    "neighbors",
    "plot_model",
    "png_bytes",
    "samples",
]
