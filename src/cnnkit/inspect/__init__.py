"""Look inside a CNN: activation maps, latent vectors, learned filters and t-SNE maps.

- ``activations(model, x)``: every layer's output for an image, ``{layer name: array}``.
- ``features(model, x)``: the latent vectors the classifier sees (input of the last Dense).
- ``filters(model)``: convolution kernels, (kh, kw, in, out) as Keras stores them.
- ``tsne(x)``: a seeded 2-D t-SNE map after PCA to 50 dimensions.
- ``neighbourhood_scores(x, features, labels)``: k-NN accuracy in pixel vs latent space.
"""

from __future__ import annotations

from cnnkit.inspect._activations import activations as activations
from cnnkit.inspect._activations import features as features

# The helpers plots and report build on: which layers to read, and images as a model batch.
from cnnkit.inspect._filters import conv_layer as conv_layer
from cnnkit.inspect._filters import conv_layers as conv_layers
from cnnkit.inspect._filters import filters as filters
from cnnkit.inspect._model import check_model as check_model
from cnnkit.inspect._model import image_batch as image_batch
from cnnkit.inspect._model import resolve_layers as resolve_layers
from cnnkit.inspect._neighbourhood import neighbourhood_scores as neighbourhood_scores
from cnnkit.inspect._tsne import default_perplexity as default_perplexity
from cnnkit.inspect._tsne import subsample as subsample
from cnnkit.inspect._tsne import tsne as tsne

__all__ = [
    "activations",
    "check_model",
    "conv_layer",
    "conv_layers",
    "default_perplexity",
    "features",
    "filters",
    "image_batch",
    "neighbourhood_scores",
    "resolve_layers",
    "subsample",
    "tsne",
]
