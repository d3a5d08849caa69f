"""cnnkit.inspect: activations, features, filters, t-SNE and neighbourhood scores."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cnnkit import Sequential, inspect, zoo
from cnnkit.datasets import digits
from cnnkit.inspect._neighbourhood import majority
from cnnkit.layers import (
    BatchNormalization,
    Conv2D,
    Dense,
    Dropout,
    Flatten,
    GlobalAveragePooling2D,
    MaxPooling2D,
)
from cnnkit.utils import set_random_seed


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """One thread for OpenMP/BLAS and torch: the 2 shared cores make more threads slower."""
    from threadpoolctl import threadpool_limits

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    with threadpool_limits(1):
        yield
    torch.set_num_threads(threads)


def small_cnn(input_shape=(12, 12, 1), classes=3) -> Sequential:
    set_random_seed(0)
    return Sequential(
        [
            Conv2D(4, 3, activation="relu", input_shape=input_shape),
            BatchNormalization(),
            MaxPooling2D(2),
            Conv2D(6, 3, padding="same", activation="relu"),
            Flatten(),
            Dropout(0.5),
            Dense(8, activation="relu"),
            Dense(classes, activation="softmax"),
        ]
    )


def images(n=5, shape=(12, 12, 1), seed=0) -> np.ndarray:
    return np.random.default_rng(seed).random((n, *shape), dtype=np.float32)


# ----------------------------------------------------------------------------- activations
def test_activations_names_and_shapes_match_the_summary():
    model = small_cnn()
    outputs = inspect.activations(model, images(3))
    assert list(outputs) == [layer.name for layer in model.layers]
    for layer in model.layers:
        assert outputs[layer.name].shape == (3, *layer.output_shape[1:])
        assert outputs[layer.name].dtype == np.float32


def test_activations_of_the_last_layer_are_the_predictions():
    model = small_cnn()
    x = images(4)
    last = inspect.activations(model, x, layers=-1)
    np.testing.assert_allclose(last[model.layers[-1].name], model.predict(x, verbose=0), rtol=1e-5)


def test_one_image_gets_a_batch_axis_and_grayscale_may_omit_the_channel():
    model = small_cnn()
    x = images(1)
    with_channel = inspect.activations(model, x[0], layers="conv2d")["conv2d"]
    without_channel = inspect.activations(model, x[0, ..., 0], layers=["conv2d"])["conv2d"]
    assert with_channel.shape == (1, 10, 10, 4)
    np.testing.assert_array_equal(with_channel, without_channel)


def test_activations_run_in_inference_mode_and_restore_training_mode():
    model = small_cnn()
    model.train()
    x = images(2)
    first = inspect.activations(model, x, layers=["dropout"])["dropout"]
    second = inspect.activations(model, x, layers=["dropout"])["dropout"]
    np.testing.assert_array_equal(first, second)  # dropout off
    np.testing.assert_array_equal(first, inspect.activations(model, x, layers="flatten")["flatten"])
    assert model.training


def test_hooks_are_removed_even_when_the_forward_pass_fails(monkeypatch):
    model = small_cnn()
    model.train()
    broken = model.get_layer("dense")

    def fail(x):
        raise RuntimeError("boom")

    monkeypatch.setattr(broken, "forward", fail)
    with pytest.raises(RuntimeError, match="boom"):
        inspect.activations(model, images(1))
    assert all(not layer._forward_hooks for layer in model.layers)
    assert model.training
    monkeypatch.undo()
    inspect.activations(model, images(1))
    assert all(not layer._forward_hooks for layer in model.layers)


def test_activations_reject_unknown_layers_and_wrong_images():
    model = small_cnn()
    with pytest.raises(ValueError, match=r"activations: unknown layer 'conv3'\. Layers: conv2d, "):
        inspect.activations(model, images(1), layers="conv3")
    with pytest.raises(ValueError, match="out of range"):
        inspect.activations(model, images(1), layers=20)
    with pytest.raises(
        ValueError, match=r"activations: x must be one image of shape \(12, 12, 1\)"
    ):
        inspect.activations(model, images(1, shape=(10, 10, 1)))
    with pytest.raises(TypeError, match="activations: model must be a cnnkit model"):
        inspect.activations(torch.nn.Linear(2, 2), images(1))
    with pytest.raises(TypeError, match="x must be a NumPy array"):
        inspect.activations(model, "image.png")


# ----------------------------------------------------------------------------- features
def manual_latent(model: Sequential, x: np.ndarray) -> np.ndarray:
    """Run the layers before the last Dense by hand (eval mode, no gradients)."""
    last_dense = max(i for i, layer in enumerate(model.layers) if isinstance(layer, Dense))
    model.eval()
    with torch.no_grad():
        out = torch.as_tensor(x)
        for layer in model.layers[:last_dense]:
            out = layer(out)
    model.train()
    return out.reshape(len(x), -1).numpy()


def test_features_equal_a_manual_truncated_forward_pass():
    model = small_cnn()
    x = images(20)
    latent = inspect.features(model, x, batch_size=7)
    assert latent.shape == (20, 8)
    np.testing.assert_allclose(latent, manual_latent(model, x), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(inspect.features(model, x), latent, rtol=1e-5, atol=1e-6)


def test_features_of_a_named_layer_are_its_flattened_output():
    model = small_cnn()
    x = images(3)
    volume = inspect.activations(model, x, layers="conv2d_1")["conv2d_1"]
    np.testing.assert_allclose(
        inspect.features(model, x, layer="conv2d_1"), volume.reshape(3, -1), rtol=1e-6
    )


def test_features_of_the_lecture_lenet5_are_84_dimensional():
    model = zoo.get("lenet5")
    assert inspect.features(model, images(2, shape=(32, 32, 1))).shape == (2, 84)


def test_features_need_a_dense_layer_or_a_named_layer():
    model = Sequential([Conv2D(2, 3, input_shape=(8, 8, 1)), GlobalAveragePooling2D()])
    with pytest.raises(ValueError, match="no Dense layer.*layer= one of: conv2d"):
        inspect.features(model, images(1, shape=(8, 8, 1)))
    assert inspect.features(model, images(2, shape=(8, 8, 1)), layer=-1).shape == (2, 2)
    with pytest.raises(ValueError, match="features: batch_size must be an int >= 1"):
        inspect.features(model, images(1, shape=(8, 8, 1)), layer=0, batch_size=0)


# ----------------------------------------------------------------------------- filters
def test_filters_equal_keras_weights():
    model = small_cnn()
    first = inspect.filters(model)
    np.testing.assert_array_equal(first, model.layers[0].get_weights()[0])
    assert first.shape == (3, 3, 1, 4)
    second = inspect.filters(model, "conv2d_1")
    np.testing.assert_array_equal(second, model.get_layer("conv2d_1").get_weights()[0])
    stored = model.get_layer("conv2d_1").weight.detach().numpy()  # (out, in, kh, kw)
    np.testing.assert_array_equal(second, stored.transpose(2, 3, 1, 0))
    np.testing.assert_array_equal(inspect.filters(model.layers[0]), first)


def test_filters_reject_layers_without_kernels():
    model = small_cnn()
    with pytest.raises(
        ValueError,
        match=r"layer 'dense' \(Dense\) has no convolution kernels\. Conv2D layers: conv2d, conv2d_1",
    ):
        inspect.filters(model, "dense")
    with pytest.raises(TypeError, match="layer_or_model must be a Conv2D layer or a cnnkit model"):
        inspect.filters(Dense(3))
    with pytest.raises(ValueError, match="not built"):
        inspect.filters(Conv2D(2, 3))


# ----------------------------------------------------------------------------- t-SNE
def clusters(n_per=20, seed=0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 10, size=(3, 60))
    x = np.concatenate([c + rng.normal(0, 1, size=(n_per, 60)) for c in centres])
    return x.astype(np.float32), np.repeat(np.arange(3), n_per)


def test_tsne_shape_seeding_and_subsampling():
    x, y = clusters()
    first = inspect.tsne(x, perplexity=10)
    assert first.shape == (60, 2) and first.dtype == np.float32
    np.testing.assert_array_equal(first, inspect.tsne(x, perplexity=10))
    points, rows = inspect.tsne(x, perplexity=5, max_points=25, return_indices=True)
    assert points.shape == (25, 2) and len(set(rows.tolist())) == 25
    assert np.all(np.diff(rows) > 0)
    again, same_rows = inspect.tsne(x, perplexity=5, max_points=25, return_indices=True)
    np.testing.assert_array_equal(rows, same_rows)
    np.testing.assert_array_equal(points, again)
    _, other_rows = inspect.tsne(x, perplexity=5, max_points=25, seed=1, return_indices=True)
    assert not np.array_equal(rows, other_rows)
    # The embedded rows are the chosen ones: embedding them directly gives the same map.
    np.testing.assert_allclose(inspect.tsne(x[rows], perplexity=5), points, rtol=1e-4, atol=1e-4)
    # Well separated clusters stay separated: each point's nearest neighbour shares its class.
    distances = np.linalg.norm(first[:, None] - first[None], axis=-1)
    np.fill_diagonal(distances, np.inf)
    assert np.mean(y[distances.argmin(axis=1)] == y) > 0.95


def test_tsne_checks_its_arguments():
    x, _ = clusters(n_per=4)
    with pytest.raises(
        ValueError, match=r"perplexity \(30\) must be less than the number of points \(12\)"
    ):
        inspect.tsne(x)
    with pytest.raises(ValueError, match="n_components must be 1, 2 or 3"):
        inspect.tsne(x, n_components=4, perplexity=3)
    with pytest.raises(ValueError, match="max_points must be a positive int or None"):
        inspect.tsne(x, perplexity=3, max_points=0)
    assert inspect.tsne(x.reshape(12, 6, 10), perplexity=3, n_components=3).shape == (12, 3)


# ----------------------------------------------------------------------------- neighbourhoods
def test_neighbourhood_scores_by_hand():
    # Pixels on a line; the class-1 point at 3.2 sits among class 0.  Latent: classes far apart.
    pixels = np.array([[0.0], [1.5], [2.5], [3.2], [10.0], [11.0]])
    labels = np.array([0, 0, 0, 1, 1, 1])
    latent = labels[:, None] * 100.0 + np.arange(6)[:, None]
    scores = inspect.neighbourhood_scores(pixels, latent, labels, k=1)
    # Nearest other point: 0->1.5, 1.5->2.5, 2.5->3.2 (wrong), 3.2->2.5 (wrong), 10->11, 11->10.
    assert scores["pixels"]["knn_accuracy"] == pytest.approx(4 / 6)
    assert scores["pixels"]["neighbour_agreement"] == pytest.approx(4 / 6)
    assert scores["latent"] == {"knn_accuracy": 1.0, "neighbour_agreement": 1.0}
    scores = inspect.neighbourhood_scores(pixels, latent, labels, k=2)
    # Two nearest: 0->{1.5, 2.5}, 1.5->{2.5, 0}, 2.5->{3.2, 1.5}, 3.2->{2.5, 1.5},
    # 10->{11, 3.2}, 11->{10, 3.2}. At 2.5 the vote is tied and goes to the nearer 3.2 (wrong).
    assert scores["pixels"]["neighbour_agreement"] == pytest.approx((2 + 2 + 1 + 0 + 2 + 2) / 12)
    assert scores["pixels"]["knn_accuracy"] == pytest.approx(4 / 6)
    assert scores["latent"] == {"knn_accuracy": 1.0, "neighbour_agreement": 1.0}


def test_majority_breaks_ties_towards_nearer_neighbours():
    votes = np.array([[3, 3, 0, 0], [5, 2, 5, 2], [2, 1, 1, 2], [7, 1, 1, 1]])
    # a tie goes to the label whose neighbours rank nearer in total; equal totals: smaller label
    np.testing.assert_array_equal(majority(votes), [3, 5, 1, 1])


def test_neighbourhood_scores_check_their_inputs():
    x = np.zeros((5, 3))
    with pytest.raises(ValueError, match="x_pixels has 5 samples but features has 4"):
        inspect.neighbourhood_scores(x, np.zeros((4, 2)), np.zeros(5, int))
    with pytest.raises(ValueError, match="labels has 4 labels but there are 5 samples"):
        inspect.neighbourhood_scores(x, np.zeros((5, 2)), np.zeros(4, int))
    with pytest.raises(ValueError, match=r"k must be less than the number of samples \(5\)"):
        inspect.neighbourhood_scores(x, np.zeros((5, 2)), np.zeros(5, int), k=5)


def shifted(x: np.ndarray, rng: np.random.Generator, canvas: int = 24) -> np.ndarray:
    """Place each digit at a random position on a larger black canvas."""
    out = np.zeros((len(x), canvas, canvas, 1), np.float32)
    size = x.shape[1]
    for i, image in enumerate(x):
        row, column = rng.integers(0, canvas - size + 1, size=2)
        out[i, row : row + size, column : column + size, 0] = image / 255
    return out


def test_latent_space_knn_beats_pixel_space_knn_on_shifted_digits():
    """The lecture's claim as a number: a trained CNN's latent distances group classes better
    than pixel distances, which a shift of the digit throws off."""
    (x, y), (x_test, y_test) = digits.load_data(image_size=(16, 16))
    rng = np.random.default_rng(0)
    x, x_test = shifted(x, rng), shifted(x_test, rng)
    set_random_seed(0)
    model = Sequential(
        [
            Conv2D(16, 3, activation="relu", input_shape=(24, 24, 1)),
            MaxPooling2D(2),
            Conv2D(32, 3, activation="relu"),
            MaxPooling2D(2),
            Flatten(),
            Dense(64, activation="relu"),
            Dense(10, activation="softmax"),
        ]
    )
    model.compile("adam", "sparse_categorical_crossentropy", ["accuracy"])
    model.fit(x, y, epochs=12, batch_size=32, verbose=0)
    scores = inspect.neighbourhood_scores(x_test, inspect.features(model, x_test), y_test, k=5)
    assert scores["latent"]["knn_accuracy"] > scores["pixels"]["knn_accuracy"] + 0.08
    assert scores["latent"]["neighbour_agreement"] > scores["pixels"]["neighbour_agreement"] + 0.1
