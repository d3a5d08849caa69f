"""cnnkit.plots.explanation and explanation_grid: each image under its map, titled."""

from __future__ import annotations

import numpy as np
import pytest

from cnnkit import plots


def gray(n: int) -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, size=(n, 8, 8), dtype=np.uint8)


def maps_for(n: int, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).random((n, 8, 8)).astype(np.float32)


def test_grayscale_images_are_gray_under_a_translucent_map_with_titles():
    images, maps = gray(3), maps_for(3)
    probabilities = np.eye(4)[[1, 2, 0]] * 0.6 + 0.1
    figure = plots.explanation(
        images, maps, true=[1, 3, 0], probabilities=probabilities, class_names=list("abcd")
    )
    assert len(figure.axes) == 3
    for index, ax in enumerate(figure.axes):
        picture, overlay = ax.get_images()
        np.testing.assert_allclose(picture.get_array(), images[index] / 255)
        assert picture.get_cmap().name == "gray" and picture.get_alpha() is None
        expected = (maps[index] - maps[index].min()) / np.ptp(maps[index])
        np.testing.assert_allclose(overlay.get_array(), expected, rtol=1e-6)
        assert overlay.get_cmap().name == "jet" and overlay.get_alpha() == 0.5
    assert [ax.get_title() for ax in figure.axes] == [
        "true: b\npred: b (0.70)",
        "true: d\npred: c (0.70)",
        "true: a\npred: a (0.70)",
    ]


def test_rgb_images_are_drawn_in_colour_and_options_reach_the_overlay(tmp_path):
    images = np.random.default_rng(0).random((2, 8, 8, 3))
    target = tmp_path / "maps.png"
    figure = plots.explanation(
        images, maps_for(2), predicted=[0, 1], alpha=0.3, cmap="viridis", columns=1, save=target
    )
    assert target.read_bytes().startswith(b"\x89PNG")
    picture, overlay = figure.axes[1].get_images()
    np.testing.assert_allclose(picture.get_array(), images[1])
    assert overlay.get_alpha() == 0.3 and overlay.get_cmap().name == "viridis"
    assert [ax.get_title() for ax in figure.axes] == ["pred: 0", "pred: 1"]
    # one column: the second image is below the first
    assert figure.axes[1].get_position().y0 < figure.axes[0].get_position().y0


def test_a_constant_map_is_drawn_as_zeros_not_nan():
    figure = plots.explanation(gray(1), np.full((1, 8, 8), 3.0))
    overlay = figure.axes[0].get_images()[1]
    np.testing.assert_array_equal(overlay.get_array(), np.zeros((8, 8)))
    assert figure.axes[0].get_title() == ""


def test_grid_has_the_image_then_one_column_per_method():
    images = gray(2)
    maps = {"Grad-CAM": maps_for(2, 1), "saliency": maps_for(2, 2), "occlusion": maps_for(2, 3)}
    figure = plots.explanation_grid(images, maps, true=[0, 1], predicted=[0, 0])
    assert len(figure.axes) == 2 * 4
    titles = [ax.get_title() for ax in figure.axes]
    assert titles[:4] == ["true: 0\npred: 0", "Grad-CAM", "saliency", "occlusion"]
    assert titles[4:] == ["true: 1\npred: 0", "", "", ""]
    for row in range(2):
        alone = figure.axes[row * 4].get_images()
        assert len(alone) == 1
        np.testing.assert_allclose(alone[0].get_array(), images[row] / 255)
        for column, values in enumerate(maps.values(), start=1):
            picture, overlay = figure.axes[row * 4 + column].get_images()
            np.testing.assert_allclose(picture.get_array(), images[row] / 255)
            scaled = (values[row] - values[row].min()) / np.ptp(values[row])
            np.testing.assert_allclose(overlay.get_array(), scaled, rtol=1e-6)


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (
            lambda: plots.explanation(gray(2), maps_for(3)),
            ValueError,
            r"explanation: maps must be one \(height, width\) map per image, shape \(2, 8, 8\); "
            r"received shape \(3, 8, 8\)",
        ),
        (
            lambda: plots.explanation(gray(2), maps_for(2), alpha=2),
            ValueError,
            r"alpha must be a finite number in \[0, 1\]",
        ),
        (
            lambda: plots.explanation(gray(2), maps_for(2), probabilities=np.ones(2)),
            ValueError,
            r"probabilities must be \(n, classes\) with n = 2 images; received shape \(2,\)",
        ),
        (
            lambda: plots.explanation(gray(2), np.full((2, 8, 8), np.nan)),
            ValueError,
            "maps must hold finite numbers",
        ),
        (
            lambda: plots.explanation_grid(gray(2), maps_for(2)),
            TypeError,
            r"explanation_grid: maps must be a non-empty dict \{method name: \(n, height, width\) "
            r"maps\}\. Received: ndarray",
        ),
    ],
)
def test_bad_input_is_named(call, error, message):
    with pytest.raises(error, match=message):
        call()
