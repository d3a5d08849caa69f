"""The walkthrough page embeds enough to recompute every neuron: its data, read back here, gives
the model's own outputs through ``cnnkit.signal.correlate2d`` (convolutions), windows (pooling)
and dot products (Dense); the page stays small and opens without a network."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import cnnkit
from cnnkit import cli, report, zoo
from cnnkit.inspect import activations
from cnnkit.signal import correlate2d

ACTIVATIONS = {
    "linear": lambda z: z,
    "relu": lambda z: np.maximum(z, 0),
    "tanh": np.tanh,
    "softmax": lambda z: np.exp(z - z.max()) / np.exp(z - z.max()).sum(),
}


def page_data(path: Path) -> dict:
    """The JSON the page embeds, its arrays decoded to float32."""
    text = path.read_text(encoding="utf-8")
    found = re.search(r'<script type="application/json" id="wt-data">(.*?)</script>', text, re.S)
    data = json.loads(found.group(1))
    data["arrays"] = {
        name: np.frombuffer(base64.b64decode(entry["b64"]), "<f4").reshape(entry["shape"])
        for name, entry in data["arrays"].items()
    }
    return data


def seeded(name: str, **kwargs) -> cnnkit.Model:
    torch.manual_seed(0)
    return zoo.get(name, **kwargs)


def strided_model() -> cnnkit.Sequential:
    """'same' padding with strides and dilation, max pooling with 'same' padding."""
    torch.manual_seed(1)
    return cnnkit.Sequential(
        [
            cnnkit.layers.Input((13, 11, 2)),
            cnnkit.layers.Conv2D(4, (3, 4), strides=2, padding="same", activation="relu"),
            cnnkit.layers.Conv2D(3, 3, dilation_rate=2, padding="same", activation="tanh"),
            cnnkit.layers.MaxPooling2D(2, padding="same"),
            cnnkit.layers.Flatten(),
            cnnkit.layers.Dense(5, activation="softmax"),
        ]
    )


def image_for(model, seed=0) -> np.ndarray:
    return np.random.default_rng(seed).random(model.input_shape[1:], dtype=np.float32)


@pytest.fixture(scope="module", params=["lenet5", "small_cnn", "strided"])
def case(request, tmp_path_factory):
    model = strided_model() if request.param == "strided" else seeded(request.param)
    if request.param == "small_cnn":  # batch-norm statistics other than 0 and 1
        for layer in model.layers:
            if type(layer).__name__ == "BatchNormalization":
                layer.moving_mean.uniform_(-0.5, 0.5)
                layer.moving_variance.uniform_(0.5, 2.0)
    image = image_for(model)
    path = report.walkthrough(model, image, tmp_path_factory.mktemp("wt") / "page.html")
    return request.param, model, image, path, page_data(path)


def padded_input(data: dict, layer: dict) -> np.ndarray:
    top, bottom, left, right = layer["padding"]
    volume = data["arrays"][layer["input"]].astype(np.float64)
    return np.pad(volume, ((top, bottom), (left, right), (0, 0)))


def test_embedded_outputs_are_the_models_outputs(case):
    _, model, image, _, data = case
    forward = activations(model, image)
    assert [layer["name"] for layer in data["layers"]] == list(forward)
    np.testing.assert_array_equal(data["arrays"]["image"], image)
    for layer in data["layers"]:
        # another forward pass may round differently in the last bit (threads, kernels)
        np.testing.assert_allclose(
            data["arrays"][layer["output"]], forward[layer["name"]][0], rtol=1e-5, atol=1e-6
        )


def test_convolution_neurons_recomputed_with_correlate2d(case):
    name, model, image, _, data = case
    forward = activations(model, image)
    rng = np.random.default_rng(0)
    convs = [layer for layer in data["layers"] if layer["kind"] == "conv"]
    assert convs
    checked = 0
    for layer in convs:
        kernel = data["arrays"][layer["kernel"]].astype(np.float64)
        dh, dw = layer["dilation"]
        if (dh, dw) != (1, 1):  # a dilated kernel is the kernel with zeros between its taps
            kh, kw, c, f = kernel.shape
            spread = np.zeros(((kh - 1) * dh + 1, (kw - 1) * dw + 1, c, f))
            spread[::dh, ::dw] = kernel
            kernel = spread
        full = correlate2d(padded_input(data, layer), kernel, mode="valid")
        z = full[:: layer["strides"][0], :: layer["strides"][1]]
        if layer["bias"]:
            z = z + data["arrays"][layer["bias"]]
        expected = forward[layer["name"]][0]
        assert z.shape == expected.shape
        picks = rng.integers(0, expected.shape, size=(max(200 // len(convs), 70), 3))
        for r, c, f in picks:
            shown = ACTIVATIONS[layer["activation"]](z[r, c, f])
            np.testing.assert_allclose(shown, expected[r, c, f], rtol=1e-5, atol=1e-5)
            checked += 1
    assert checked >= 200


def test_pooling_windows_give_the_models_values(case):
    _, model, image, _, data = case
    forward = activations(model, image)
    for layer in (layer for layer in data["layers"] if layer["kind"] == "pool"):
        volume = padded_input(data, layer)
        inside = np.pad(
            np.ones(data["arrays"][layer["input"]].shape[:2]),
            [layer["padding"][:2], layer["padding"][2:]],
        )
        expected = forward[layer["name"]][0]
        (ph, pw), (sh, sw) = layer["pool_size"], layer["strides"]
        for r, c, ch in np.ndindex(*expected.shape):
            window = volume[r * sh : r * sh + ph, c * sw : c * sw + pw, ch]
            valid = inside[r * sh : r * sh + ph, c * sw : c * sw + pw] > 0
            value = window[valid].max() if layer["mode"] == "max" else window[valid].mean()
            np.testing.assert_allclose(value, expected[r, c, ch], rtol=1e-5, atol=1e-6)


def test_dense_contributions_add_up_to_the_models_units(case):
    _, model, image, _, data = case
    forward = activations(model, image)
    dense = [layer for layer in data["layers"] if layer["kind"] == "dense"]
    assert dense
    for layer in dense:
        x = data["arrays"][layer["input"]].astype(np.float64)
        contributions = x[:, None] * data["arrays"][layer["kernel"]]  # what the page sorts
        z = contributions.sum(axis=0) + data["arrays"][layer["bias"]]
        if layer["activation"] == "softmax":
            np.testing.assert_allclose(
                ACTIVATIONS["softmax"](z), forward[layer["name"]][0], atol=1e-6
            )
        else:
            shown = ACTIVATIONS[layer["activation"]](z)
            np.testing.assert_allclose(shown, forward[layer["name"]][0], rtol=1e-5, atol=1e-5)


def test_each_layer_shows_the_lectures_arithmetic(case):
    name, model, _, path, data = case
    text = path.read_text(encoding="utf-8")
    for layer, entry in zip(model.layers, data["layers"]):
        assert entry["output_shape"] == list(layer.output_shape[1:])
        assert entry["bytes_per_image"] == 4 * int(np.prod(layer.output_shape[1:]))
        assert f'data-bytes="{entry["bytes_per_image"]}"' in text
        assert entry["params_text"].endswith(f"{layer.count_params():,}")
        if entry["kind"] in ("conv", "pool"):
            sizes = [int(line.rsplit("= ", 1)[1]) for line in entry["size"][:2]]
            assert sizes == list(layer.output_shape[1:3])
    if name == "lenet5":
        assert "6 × (5×5×1) + 6 = 156" in text and "16 × (5×5×6) + 16 = 2,416" in text
        assert "⌊(32 − 1·(5 − 1) − 1) / 1⌋ + 1 = 28" in text
        assert "400 × 120 + 120 = 48,120" in text
    if name == "strided":
        assert (
            "H: ⌈n / s⌉ = ⌈13 / 2⌉ = 7" in text and "zeros top 1, bottom 1, left 1, right 2" in text
        )


def test_the_page_is_self_contained_and_small(case):
    name, _, _, path, _ = case
    text = path.read_text(encoding="utf-8")
    assert not re.search(r"https?://", text)
    assert not re.search(r"<(script|img|link|iframe)[^>]*\s(src|href)=\"(?!data:)", text)
    limit = {"lenet5": 3_000_000, "small_cnn": 10_000_000}.get(name, 1_000_000)
    assert path.stat().st_size <= limit
    assert "(I ⊗ w)(r, c) = Σ" in text and "(I ⊛ w)(r, c) = Σ" in text  # the flip, once
    assert text.count("<h2>Correlation or convolution?") == 1
    assert "{{" not in text  # every placeholder filled, the heading's title too
    assert re.search(r"<h1>Walkthrough: [^<]+</h1>", text)


def test_a_title_that_looks_like_a_placeholder_stays_text(tmp_path):
    model = seeded("lenet5")
    path = cnnkit.report.walkthrough(
        model, image_for(model), tmp_path / "page.html", title="{{script}}", caption="{{data}}"
    )
    text = Path(path).read_text(encoding="utf-8")
    assert text.count("<h1>{{script}}</h1>") == 1 and text.count("<script>") == 1


def test_bad_input_is_a_clear_error(tmp_path):
    model = seeded("lenet5")
    with pytest.raises(
        ValueError,
        match=r"walkthrough: image must be one image of shape \(32, 32, 1\).*received shape \(28, 28\)",
    ):
        report.walkthrough(model, np.zeros((28, 28)), tmp_path / "a.html")
    with pytest.raises(ValueError, match="image must be one image"):
        report.walkthrough(model, np.zeros((2, 32, 32, 1)), tmp_path / "a.html")
    unbuilt = cnnkit.Sequential([cnnkit.layers.Conv2D(2, 3)])
    with pytest.raises(ValueError, match="the model is not built yet"):
        report.walkthrough(unbuilt, np.zeros((32, 32, 1)), tmp_path / "a.html")
    with pytest.raises(ValueError, match="path .* is a folder"):
        report.walkthrough(model, np.zeros((32, 32, 1)), tmp_path)
    blocker = tmp_path / "file.txt"
    blocker.write_text("x")
    with pytest.raises(ValueError, match="path .* cannot be written"):
        report.walkthrough(model, np.zeros((32, 32, 1)), blocker / "page.html")
    with pytest.raises(ValueError, match="batch_size"):
        report.walkthrough(model, np.zeros((32, 32)), tmp_path / "a.html", batch_size=0)
    with pytest.raises(TypeError, match="path must be a file path"):
        report.walkthrough(model, np.zeros((32, 32)), 3)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file.txt"]  # nothing half-written


def test_grayscale_image_without_channel_axis_and_class_names(tmp_path):
    model = seeded("lenet5")
    image = image_for(model)[..., 0]
    names = [f"digit {i}" for i in range(10)]
    path = report.walkthrough(model, image, tmp_path / "p.html", class_names=names, caption="a 7")
    data = page_data(path)
    assert data["class_names"] == names
    np.testing.assert_array_equal(data["arrays"]["image"][..., 0], image)
    with pytest.raises(ValueError, match="class_names has 3 names but the model has 10 outputs"):
        report.walkthrough(model, image, tmp_path / "q.html", class_names=["a", "b", "c"])


def test_command_line_writes_the_page(tmp_path, capsys):
    model = seeded("lenet5")
    model.save(str(tmp_path / "model.cnnkit"))
    pixels = (np.random.default_rng(0).random((32, 32)) * 255).astype(np.uint8)
    Image.fromarray(pixels, mode="L").save(tmp_path / "seven.png")
    out = tmp_path / "out" / "seven.html"
    code = cli.main(
        [
            "walkthrough",
            str(tmp_path / "model.cnnkit"),
            str(tmp_path / "seven.png"),
            "--out",
            str(out),
        ]
    )
    assert code == 0 and f"walkthrough: {out}" in capsys.readouterr().out
    data = page_data(out)
    np.testing.assert_allclose(data["arrays"]["image"][..., 0], pixels / 255, atol=1e-7)
    assert len(data["layers"]) == len(model.layers)
    assert (
        cli.main(["walkthrough", str(tmp_path / "model.cnnkit"), str(tmp_path / "none.png")]) == 1
    )


def test_the_report_links_walkthroughs_of_right_and_wrong_test_images(tmp_path):
    from report_helpers import digits_case, single_thread

    with single_thread():
        model, history, data = digits_case(n_train=120, n_test=40)
        path = report.build(
            tmp_path, model, history, data, knn=False, max_points=30,
            preprocess=lambda x: x / 255, n_queries=1, walkthroughs=4,
        )  # fmt: skip
    text = path.read_text(encoding="utf-8")
    section = re.search(r'<section id="walkthrough">(.*?)</section>', text, re.S).group(1)
    links = re.findall(r'<a href="(walkthrough/test-(\d+)\.html)">', section)
    assert len(links) == 4
    _, (x_test, y_test) = data
    predicted = model.predict(x_test[..., None] / 255, verbose=0).argmax(axis=1)
    verdicts = {int(index): bool(predicted[int(index)] == y_test[int(index)]) for _, index in links}
    if (predicted != y_test).any() and (predicted == y_test).any():
        assert set(verdicts.values()) == {True, False}
    for link, index in links:
        page = page_data(tmp_path / link)
        np.testing.assert_allclose(
            page["arrays"]["image"][..., 0], x_test[int(index)] / 255, atol=1e-7
        )
        assert f"Test image {index}: true class" in (tmp_path / link).read_text(encoding="utf-8")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html", "walkthrough"]
