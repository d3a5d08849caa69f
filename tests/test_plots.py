"""cnnkit.plots: each figure has the axes, tiles, titles and data it promises."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.figure import Figure
from matplotlib.offsetbox import AnnotationBbox

from cnnkit import Sequential, inspect, plots
from cnnkit.callbacks import History
from cnnkit.layers import Conv2D, Dense, Flatten, MaxPooling2D
from cnnkit.plots._images import display_images
from cnnkit.utils import set_random_seed

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def cnn(channels: int = 1) -> Sequential:
    set_random_seed(0)
    return Sequential(
        [
            Conv2D(4, 3, activation="relu", input_shape=(10, 10, channels)),
            MaxPooling2D(2),
            Conv2D(20, 3, padding="same"),
            Flatten(),
            Dense(3, activation="softmax"),
        ]
    )


def gray(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=(n, 10, 10), dtype=np.uint8)


def titles(figure: Figure) -> list[str]:
    return [ax.get_title() for ax in figure.axes]


# ----------------------------------------------------------------------------- images
def test_display_images_scales_every_kind_of_image_to_unit_range():
    as_uint8 = np.array([[[0, 255], [51, 102]]], dtype=np.uint8)
    np.testing.assert_allclose(display_images(as_uint8, "x", "t"), as_uint8 / 255)
    unit = np.array([[[0.0, 0.5], [1.0, 0.25]]])
    np.testing.assert_allclose(display_images(unit[..., None], "x", "t"), unit)
    np.testing.assert_allclose(display_images(unit * 255, "x", "t"), unit)
    standardised = np.array([[[-2.0, 0.0], [2.0, 1.0]]])
    np.testing.assert_allclose(display_images(standardised, "x", "t"), [[[0, 0.5], [1, 0.75]]])
    assert display_images(np.zeros((2, 4, 4, 3), np.uint8), "x", "t").shape == (2, 4, 4, 3)
    with pytest.raises(
        ValueError,
        match=r"t: x must be images .* received shape \(2, 3, 4, 4\) - these look channels-first",
    ):
        display_images(np.zeros((2, 3, 4, 4)), "x", "t")


def test_save_writes_a_png_atomically(tmp_path):
    target = tmp_path / "plots" / "curves.png"
    figure = plots.history({"loss": [1.0, 0.5]}, save=target)
    assert isinstance(figure, Figure)
    assert target.read_bytes().startswith(PNG_SIGNATURE)
    assert sorted(p.name for p in target.parent.iterdir()) == ["curves.png"]  # no temporary left
    with pytest.raises(IsADirectoryError):
        plots.history({"loss": [1.0]}, save=tmp_path)
    with pytest.raises(TypeError, match="save must be a file path"):
        plots.history({"loss": [1.0]}, save=3)


# ----------------------------------------------------------------------------- history
def test_history_has_one_axes_per_quantity_with_train_and_validation_curves():
    history = History()
    history.on_train_begin()
    for epoch, (loss, acc) in enumerate([(1.0, 0.5), (0.6, 0.7), (0.4, 0.8)]):
        history.on_epoch_end(
            epoch,
            {"loss": loss, "accuracy": acc, "val_loss": loss + 0.1, "val_accuracy": acc - 0.1},
        )
    figure = plots.history(history)
    assert titles(figure) == ["loss", "accuracy"]
    loss_axes = figure.axes[0]
    lines = {line.get_label(): line for line in loss_axes.get_lines()}
    assert set(lines) == {"train", "validation"}
    np.testing.assert_allclose(lines["train"].get_xdata(), [1, 2, 3])
    np.testing.assert_allclose(lines["train"].get_ydata(), [1.0, 0.6, 0.4])
    np.testing.assert_allclose(lines["validation"].get_ydata(), [1.1, 0.7, 0.5])
    assert loss_axes.get_xlabel() == "epoch"


def test_history_accepts_a_dict_and_rejects_what_is_not_a_history():
    figure = plots.history({"accuracy": [0.1, 0.2], "loss": [2.0, 1.0], "val_mae": [3.0, 2.0]})
    assert titles(figure) == ["loss", "accuracy", "mae"]
    assert [line.get_label() for line in figure.axes[2].get_lines()] == ["validation"]
    with pytest.raises(TypeError, match="history: expected the History returned by model.fit"):
        plots.history([1, 2])
    with pytest.raises(ValueError, match="'loss' must be a list of numbers"):
        plots.history({"loss": ["a"]})
    with pytest.raises(ValueError, match="no epochs"):
        plots.history({"loss": []})


# ----------------------------------------------------------------------------- samples
def test_samples_draw_one_row_per_class_or_one_image_per_class():
    y = np.repeat(np.arange(3), 5)
    figure = plots.samples(gray(15), y, ["cat", "dog", "frog"], per_class=4)
    assert len(figure.axes) == 12
    assert [ax.get_ylabel() for ax in figure.axes if ax.get_ylabel()] == ["cat", "dog", "frog"]
    many = np.arange(25)
    figure = plots.samples(gray(25), many, [f"c{i}" for i in many], max_rows=20)
    assert len(figure.axes) == 25
    assert titles(figure) == [f"c{i}" for i in many]


# ----------------------------------------------------------------------------- activation maps
def test_activation_maps_show_one_tile_per_channel_titled_by_layer_and_shape():
    model = cnn()
    image = np.random.default_rng(1).random((10, 10, 1), dtype=np.float32)
    figure = plots.activation_maps(model, image, max_channels=16)
    headers = [sub._suptitle.get_text() for sub in figure.subfigs]
    assert headers[0] == "input  (None, 10, 10, 1)"
    assert headers[1] == "conv2d  (None, 8, 8, 4)"
    assert headers[2] == "max_pooling2d  (None, 4, 4, 4)"
    assert headers[3] == "conv2d_1  (None, 4, 4, 20)   (channels 0-15 of 20)"
    assert len(figure.axes) == 1 + 4 + 4 + 16
    # each tile is its channel of the activation volume
    volume = inspect.activations(model, image, "conv2d_1")["conv2d_1"][0]
    tiles = figure.subfigs[3].axes
    assert [ax.get_title() for ax in tiles] == [str(c) for c in range(16)]
    np.testing.assert_allclose(tiles[7].images[0].get_array(), volume[..., 7], rtol=1e-6)


def test_activation_maps_of_chosen_layers_including_a_flat_one():
    model = cnn()
    figure = plots.activation_maps(
        model, np.zeros((10, 10)), layers=["conv2d", "dense"], show_input=False, max_channels=2
    )
    assert [sub._suptitle.get_text() for sub in figure.subfigs] == [
        "conv2d  (None, 8, 8, 4)   (channels 0-1 of 4)",
        "dense  (None, 3)",
    ]
    assert len(figure.axes) == 2 + 1
    with pytest.raises(
        ValueError, match="activation_maps: image must be one image; received a batch of 2"
    ):
        plots.activation_maps(model, np.zeros((2, 10, 10, 1)))
    with pytest.raises(ValueError, match="activation_maps: unknown layer 'conv9'"):
        plots.activation_maps(model, np.zeros((10, 10, 1)), layers="conv9")


# ----------------------------------------------------------------------------- filters
def test_filters_of_a_grayscale_first_layer_are_one_tile_each():
    model = cnn()
    figure = plots.filters(model)
    assert len(figure.axes) == 4
    assert figure._suptitle.get_text() == "conv2d: 4 filters of 3x3x1"
    kernels = inspect.filters(model)
    np.testing.assert_allclose(figure.axes[2].images[0].get_array(), kernels[:, :, 0, 2])


def test_filters_of_an_rgb_first_layer_are_colour_tiles():
    figure = plots.filters(cnn(channels=3).layers[0])
    assert len(figure.axes) == 4
    assert figure.axes[0].images[0].get_array().shape == (3, 3, 3)
    assert len(plots.filters(cnn(channels=3), rgb=False).axes) == 4 * 3


def test_filters_of_a_deeper_layer_have_a_row_per_filter_and_a_tile_per_input():
    figure = plots.filters(cnn(), "conv2d_1", max_filters=5, max_inputs=3)
    assert len(figure.axes) == 5 * 3
    assert figure._suptitle.get_text() == "conv2d_1: 20 filters of 3x3x4 (first 5)"
    assert [ax.get_ylabel() for ax in figure.axes if ax.get_ylabel()] == [
        f"filter {i}" for i in range(5)
    ]
    with pytest.raises(
        ValueError, match="filters: layer 'dense' \\(Dense\\) has no convolution kernels"
    ):
        plots.filters(cnn(), "dense")


# ----------------------------------------------------------------------------- confusion
def test_confusion_matrix_counts_and_normalised_rows():
    y_true = np.array([0, 0, 1, 1, 1, 2])
    y_pred = np.array([0, 1, 1, 1, 2, 2])
    figure = plots.confusion_matrix(y_true, y_pred, ["a", "b", "c"])
    assert len(figure.axes) == 2  # the matrix and its colour bar
    matrix = figure.axes[0].images[0].get_array()
    np.testing.assert_array_equal(matrix, [[1, 1, 0], [0, 2, 1], [0, 0, 1]])
    assert len(figure.axes[0].texts) == 9
    assert [t.get_text() for t in figure.axes[0].get_xticklabels()] == ["a", "b", "c"]
    assert "accuracy 0.667" in figure.axes[0].get_title()
    probabilities = np.eye(3)[y_pred] * 0.8 + 0.05
    normalised = plots.confusion_matrix(y_true, probabilities, normalize=True)
    rates = normalised.axes[0].images[0].get_array()
    np.testing.assert_allclose(rates.sum(axis=1), 1.0)
    np.testing.assert_allclose(rates[1], [0, 2 / 3, 1 / 3])
    assert normalised.axes[0].texts[4].get_text() == "0.67"


def test_confusion_matrix_of_100_classes_has_no_cell_text():
    rng = np.random.default_rng(0)
    y_true, y_pred = rng.integers(0, 100, 500), rng.integers(0, 100, 500)
    figure = plots.confusion_matrix(y_true, y_pred, [f"class {i}" for i in range(100)])
    assert figure.axes[0].images[0].get_array().shape == (100, 100)
    assert len(figure.axes[0].texts) == 0
    assert len(figure.axes[0].get_xticks()) <= 20
    with pytest.raises(ValueError, match="class_names has 3 entries"):
        plots.confusion_matrix([0, 5], [0, 1], ["a", "b", "c"])


# ----------------------------------------------------------------------------- misclassified
def test_misclassified_shows_the_wrong_ones_with_true_and_predicted_names():
    x = gray(6)
    y_true = np.array([0, 1, 2, 0, 1, 2])
    y_pred = np.array([0, 2, 2, 1, 1, 0])
    figure = plots.misclassified(x, y_true, y_pred, ["a", "b", "c"], max_images=2)
    assert titles(figure) == ["true: b\npred: c", "true: a\npred: b"]
    np.testing.assert_allclose(figure.axes[0].images[0].get_array(), x[1] / 255)
    assert figure._suptitle.get_text() == "3 of 6 images misclassified; the first 2"
    probabilities = np.full((6, 3), 0.1)
    probabilities[np.arange(6), y_pred] = 0.8
    rgb = np.random.default_rng(0).random((6, 10, 10, 3))
    figure = plots.misclassified(rgb, y_true, probabilities, ["a", "b", "c"])
    assert len(figure.axes) == 3 and titles(figure)[0] == "true: b\npred: c (0.80)"
    nothing = plots.misclassified(x, y_true, y_true)
    assert (
        len(nothing.axes) == 1 and "No misclassified images" in nothing.axes[0].texts[0].get_text()
    )


# ----------------------------------------------------------------------------- embedding
def test_embedding_colours_each_class_and_draws_spread_thumbnails():
    rng = np.random.default_rng(0)
    points = rng.normal(size=(60, 2))
    labels = np.arange(60) % 3
    figure = plots.embedding(points, labels, ["a", "b", "c"], title="t-SNE")
    (ax,) = figure.axes
    assert len(ax.collections) == 3 and ax.get_title() == "t-SNE"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["a", "b", "c"]
    np.testing.assert_allclose(ax.collections[1].get_offsets(), points[labels == 1])
    with_images = plots.embedding(points, labels, images=gray(60), max_images=10)
    boxes = [a for a in with_images.axes[0].artists if isinstance(a, AnnotationBbox)]
    assert 1 < len(boxes) <= 10


def test_embedding_of_many_classes_has_no_legend_and_checks_shapes():
    figure = plots.embedding(np.zeros((40, 2)) + np.arange(40)[:, None], np.arange(40))
    assert figure.axes[0].get_legend() is None
    assert len(figure.axes[0].collections) == 40
    with pytest.raises(ValueError, match=r"points_2d must have shape \(n, 2\)"):
        plots.embedding(np.zeros((5, 3)), np.zeros(5, int))
    with pytest.raises(ValueError, match="images has 4 images but points_2d has 5 points"):
        plots.embedding(np.zeros((5, 2)), np.zeros(5, int), images=gray(4))


# ----------------------------------------------------------------------------- neighbors
def test_neighbors_row_shows_the_query_then_each_neighbour_with_its_distance():
    x = gray(4)
    figure = plots.neighbors(
        x[0],
        x[1:],
        [0.5, 1.25, 1500.0],
        result_labels=[1, 0, 1],
        query_label=1,
        class_names=["cat", "dog"],
        title="pixel space",
    )
    assert titles(figure) == ["query\ndog", "#1 d=0.5\ndog", "#2 d=1.25\ncat", "#3 d=1500\ndog"]
    colours = [ax.title.get_color() for ax in figure.axes[1:]]
    assert colours == ["green", "red", "green"]
    assert figure._suptitle.get_text() == "pixel space"
    rgb = np.random.default_rng(0).random((3, 10, 10, 3)).astype(np.float32)
    assert len(plots.neighbors(rgb[0], rgb[1:]).axes) == 3
    with pytest.raises(ValueError, match="distances has 2 values but results has 3 images"):
        plots.neighbors(x[0], x[1:], [1.0, 2.0])
