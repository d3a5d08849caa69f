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
from cnnkit.inspect._filters import filters as filters
from cnnkit.inspect._neighbourhood import neighbourhood_scores as neighbourhood_scores
from cnnkit.inspect._tsne import tsne as tsne

__all__ = ["activations", "features", "filters", "neighbourhood_scores", "tsne"]
