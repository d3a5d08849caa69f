"""Inside the CNN: activation maps, filters, t-SNE maps and nearest neighbours, pixel vs latent."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from cnnkit import inspect, plots
from cnnkit.inspect import conv_layers, default_perplexity
from cnnkit.report._context import Context
from cnnkit.report._html import escape, image, pair, paragraph

#: Threads for each t-SNE map. One: the same map as with every core, 5x to 10x faster on a
#: shared 2-core machine (load 6-12), since at 2,000 points the threads mostly wait for each
#: other at each of the 1,000 steps (``bench/bench_report.py``, ``bench/README.md``).
TSNE_THREADS: int | None = 1


def activations(context: Context) -> str:
    """Each layer's activation maps for one test image."""
    if not any(len(layer.output_shape or ()) == 4 for layer in context.model.layers):
        return paragraph("The model has no layer with image-shaped outputs to show.")
    context.progress("activation maps")
    index = int(context.test_sample[0])
    label = context.class_names[context.y_test[index]]
    figure = plots.activation_maps(
        context.model, context.inputs(context.x_test[index : index + 1])[0]
    )
    return paragraph(
        f"Test image {index} (class {label}) passes through the network; each layer's output "
        "volume is shown as one image per channel (the first 16 channels; bright is high)."
    ) + image(figure, "activation maps", "Activation maps, layer by layer.")


def filters(context: Context) -> str:
    """The learned kernels of the first two convolution layers."""
    convs = conv_layers(context.model)
    if not convs:
        return paragraph("The model has no Conv2D layer, so there are no filters to show.")
    context.progress("filters")
    parts = []
    for layer in convs[:2]:
        figure = plots.filters(layer, max_filters=32 if layer is convs[0] else 12, max_inputs=8)
        kernel = layer.get_weights()[0].shape
        parts.append(
            image(
                figure,
                f"filters of {layer.name}",
                f"{layer.name}: kernels of shape {kernel} (height, width, in, out). Gray: mid-gray is 0, lighter positive, darker negative.",
            )
        )
    return "".join(parts)


def embedding(context: Context) -> str:
    """t-SNE of raw pixels next to t-SNE of the latent vectors, coloured by class."""
    sample = context.test_sample
    if len(sample) < 5:
        return paragraph("Too few test images for a t-SNE map (at least 5 are needed).")
    perplexity = default_perplexity(len(sample))
    labels = context.y_test[sample]
    images = context.x_test[sample]
    features = context.test_features
    context.progress(f"t-SNE of {len(sample):,} pixel vectors and of their latent vectors")
    pixel_map, latent_map = _tsne_maps([images, features], perplexity, context.seed)
    names = context.class_names
    return paragraph(
        f"{len(sample):,} test images embedded in 2-D by t-SNE (after PCA to 50 dimensions, "
        f"perplexity {perplexity:g}): on the left by their pixels, on the right by the latent "
        "vector the classifier sees (the input of the last Dense layer). Classes that form "
        "separate clusters on the right but not on the left are what the CNN learned to tell apart."
    ) + pair(
        image(
            plots.embedding(
                pixel_map, labels, names, images=images, max_images=80, title="t-SNE of raw pixels"
            ),
            "t-SNE of raw pixels",
        ),
        image(
            plots.embedding(
                latent_map,
                labels,
                names,
                images=images,
                max_images=80,
                title="t-SNE of CNN latent vectors",
            ),
            "t-SNE of latent vectors",
        ),
    )


def _tsne_maps(vectors: list[np.ndarray], perplexity: float, seed: int) -> list[np.ndarray]:
    """A t-SNE map of each array in ``vectors``; one-thread maps are made side by side in
    threads, one per core (scikit-learn's steps release the GIL: the report's two maps take
    8 s instead of 16 s on 2 idle cores, the same numbers)."""
    if TSNE_THREADS != 1 or (os.cpu_count() or 1) < 2:
        return [
            inspect.tsne(v, perplexity=perplexity, seed=seed, n_jobs=TSNE_THREADS) for v in vectors
        ]
    from threadpoolctl import threadpool_limits

    # the limit is process-wide: set once around the threads, so that no map's own limit,
    # undone when it ends, lifts the limit under the other
    with threadpool_limits(1), ThreadPoolExecutor(min(len(vectors), os.cpu_count() or 1)) as pool:
        futures = [
            pool.submit(inspect.tsne, v, perplexity=perplexity, seed=seed, n_jobs=1)
            for v in vectors
        ]
        return [future.result() for future in futures]


def neighbors(context: Context, n_queries: int) -> str:
    """For a few test images: the nearest training images by pixels and by latent vectors."""
    train, queries = context.train_sample, context.test_sample[:n_queries]
    context.progress(f"nearest neighbours of {len(queries)} test image(s)")
    k = min(6, len(train))
    found = _nearest(context, queries, k)
    names = context.class_names
    parts = [
        paragraph(
            f"Each test image (left) with its {k} nearest training images, nearest first, with "
            "the Euclidean distance; a neighbour's class is green when it matches."
        )
    ]
    for row, query in enumerate(queries):
        parts.append(f"<h3>Test image {int(query)} ({escape(names[context.y_test[query]])})</h3>")
        for space, (distances, indices) in found.items():
            chosen = train[indices[row]]
            figure = plots.neighbors(
                context.x_test[query],
                context.x_train[chosen],
                distances[row],
                context.y_train[chosen],
                int(context.y_test[query]),
                names,
                title=space,
            )
            parts.append(image(figure, f"neighbours in {space}"))
    return "".join(parts)


def _nearest(
    context: Context, queries: np.ndarray, k: int
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """``{space: (distances, training-sample positions)}``, each (len(queries), k)."""
    from sklearn.neighbors import NearestNeighbors

    train = context.train_sample
    spaces = {
        "pixel space": (
            context.x_train[train].reshape(len(train), -1).astype(np.float32),
            context.x_test[queries].reshape(len(queries), -1).astype(np.float32),
        ),
        "latent space": (context.train_features, context.test_features[: len(queries)]),
    }
    return {
        space: NearestNeighbors(n_neighbors=k).fit(memory).kneighbors(asked)
        for space, (memory, asked) in spaces.items()
    }
