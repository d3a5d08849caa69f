"""``cnnkit explain``: one overlay PNG per image file, the top classes printed, and flags
named in every error. Models are tiny and untrained, saved in tmp_path."""

from __future__ import annotations

import json

import numpy as np
import pytest
from cli_helpers import run_here
from PIL import Image

from cnnkit import explain, layers, plots
from cnnkit.models import Sequential, load_model
from cnnkit.utils import set_random_seed

NAMES = ["cat", "dog", "bird"]


def saved(tmp_path, convolutional: bool = True):
    """A tiny classifier of 12x12 grayscale images, saved with class_names.json beside it."""
    set_random_seed(0)
    body = [layers.Conv2D(4, 3, padding="same", activation="relu", name="conv")]
    model = Sequential(
        [layers.Input((12, 12, 1)), *(body if convolutional else []), layers.Flatten(),
         layers.Dense(3, activation="softmax")]
    )  # fmt: skip
    model.save(tmp_path / "model.cnnkit")
    (tmp_path / "class_names.json").write_text(json.dumps(NAMES))
    return tmp_path / "model.cnnkit"


def pictures(tmp_path, count: int = 2) -> list:
    rng = np.random.default_rng(0)
    paths = []
    for index in range(count):
        path = tmp_path / f"picture{index}.png"
        Image.fromarray(rng.integers(0, 256, (12, 12), dtype=np.uint8)).save(path)
        paths.append(path)
    return paths


@pytest.fixture
def drawn(monkeypatch):
    """Every call of plots.explanation, recorded, then drawn as usual."""
    calls = []
    real = plots.explanation

    def spy(*args, **kwargs):
        calls.append((args, kwargs))
        return real(*args, **kwargs)

    monkeypatch.setattr(plots, "explanation", spy)
    return calls


def test_grad_cam_overlay_per_image_and_top_classes(capsys, tmp_path, drawn):
    model_path, images = saved(tmp_path), pictures(tmp_path)
    out = tmp_path / "out"
    result = run_here(capsys, "explain", model_path, *images, "--out", out, "--top-k", "2")
    assert result.returncode == 0, result.stderr
    written = sorted(p.name for p in out.iterdir())
    assert written == ["picture0_grad_cam.png", "picture1_grad_cam.png"]
    assert all((out / name).read_bytes().startswith(b"\x89PNG") for name in written)
    model = load_model(model_path, compile=False)
    inputs = np.stack([np.asarray(Image.open(p)) for p in images])[..., None] / np.float32(255)
    probabilities = model.predict(inputs, verbose=0)
    expected = explain.grad_cam(model, inputs)
    lines = result.stdout.splitlines()
    assert lines[0] == str(images[0]) and len(lines) == 2 * 4
    best = np.argsort(-probabilities[0], kind="stable")[:2]
    assert lines[1] == f"  1. {NAMES[best[0]]:<20} {probabilities[0, best[0]]:.4f}"
    assert lines[2].startswith(f"  2. {NAMES[best[1]]}")
    assert lines[3] == f"  wrote {out / 'picture0_grad_cam.png'}"
    for index, (args, kwargs) in enumerate(drawn):
        np.testing.assert_allclose(args[1][0], expected[index], rtol=1e-5, atol=1e-7)
        assert kwargs["class_names"] == NAMES
        assert kwargs["title"] == f"grad_cam for class {NAMES[probabilities[index].argmax()]}"


@pytest.mark.parametrize(
    "method",
    ["grad_cam_plus_plus", "saliency", "smooth_grad", "integrated_gradients", "occlusion"],
)
def test_other_methods_and_a_target_by_name(capsys, tmp_path, drawn, method):
    model_path, images = saved(tmp_path), pictures(tmp_path, 1)
    out = tmp_path / "out"
    result = run_here(
        capsys, "explain", model_path, *images, "--method", method, "--target", "bird", "--out", out
    )
    assert result.returncode == 0, result.stderr
    assert [p.name for p in out.iterdir()] == [f"picture0_{method}.png"]
    assert drawn[0][1]["title"] == f"{method} for class bird"
    model = load_model(model_path, compile=False)
    inputs = np.asarray(Image.open(images[0]))[None, ..., None] / np.float32(255)
    seeded = {"seed": 0} if method == "smooth_grad" else {}
    expected = getattr(explain, method)(model, inputs, target=2, **seeded)
    np.testing.assert_allclose(drawn[0][0][1], expected, rtol=1e-5, atol=1e-7)


def test_images_with_the_same_file_name_get_their_position(capsys, tmp_path):
    model_path = saved(tmp_path)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first, second = tmp_path / "a" / "x.png", tmp_path / "b" / "x.png"
    for path in (first, second):
        Image.new("L", (12, 12), 90).save(path)
    result = run_here(capsys, "explain", model_path, first, second, "--out", tmp_path / "out")
    assert result.returncode == 0, result.stderr
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == ["x_1_grad_cam.png", "x_2_grad_cam.png"]


@pytest.mark.parametrize(
    ("flags", "code", "message"),
    [
        (["--layer", "dense"], 2, "--layer 'dense' is not a layer with feature maps of the "
         "model; choose one of: conv"),
        (["--method", "saliency", "--layer", "conv"], 2,
         "--layer is used by --method grad_cam or grad_cam_plus_plus only; got --method saliency"),
        (["--target", "horse"], 2, "--target 'horse' is not a class of the model; give a class "
         "name (cat, dog, bird) or a number 0..2"),
        (["--target", "3"], 2, "--target '3' is not a class of the model"),
        (["--method", "lime"], 2, "argument --method: invalid choice: 'lime'"),
    ],
)  # fmt: skip
def test_bad_flags_are_named(capsys, tmp_path, flags, code, message):
    model_path, images = saved(tmp_path), pictures(tmp_path, 1)
    result = run_here(capsys, "explain", model_path, *images, "--out", tmp_path / "o", *flags)
    assert result.returncode == code and message in result.stderr, result.stderr
    assert not (tmp_path / "o").exists()


def test_a_model_without_feature_maps_needs_another_method(capsys, tmp_path):
    model_path, images = saved(tmp_path, convolutional=False), pictures(tmp_path, 1)
    result = run_here(capsys, "explain", model_path, *images, "--out", tmp_path / "o")
    assert result.returncode == 1
    assert result.stderr == (
        "cnnkit: --method grad_cam needs a layer with (height, width, channels) feature maps "
        "and the model has none; use --method saliency or occlusion\n"
    )
    saliency = run_here(
        capsys, "explain", model_path, *images, "--out", tmp_path / "o", "--method", "saliency"
    )
    assert saliency.returncode == 0, saliency.stderr


def test_an_out_that_is_a_file_is_refused(capsys, tmp_path):
    model_path, images = saved(tmp_path), pictures(tmp_path, 1)
    result = run_here(capsys, "explain", model_path, *images, "--out", images[0])
    assert result.returncode == 2 and f"--out {str(images[0])!r} is a file" in result.stderr
