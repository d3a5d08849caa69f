"""A new user's first hour with the command line: the same data flags on every command that
reads a dataset, the model's own size used by default, messages that name flags (not Python
arguments), and no silent surprises (other class names, converted colours, an unusable --out).

Models are tiny and untrained (built here and saved) except for one one-epoch run on a folder
of mixed-size images, which checks ``train`` and ``evaluate`` end to end.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from cli_helpers import cnnkit, run_here
from PIL import Image

from cnnkit import layers
from cnnkit.datasets import digits, fashion_mnist
from cnnkit.models import Sequential

DATA_COMMANDS = ("train", "evaluate", "knn", "demo")


def tiny_model(input_shape: tuple[int, int, int], classes: int) -> Sequential:
    """An untrained image classifier: enough for evaluate and predict to read and run."""
    return Sequential(
        [layers.Input(input_shape), layers.Flatten(), layers.Dense(classes, activation="softmax")]
    )


def saved(model: Sequential, folder: Path, class_names: list[str] | None = None) -> Path:
    """``model`` saved in ``folder`` (with class_names.json beside it, as train writes it)."""
    folder.mkdir(parents=True, exist_ok=True)
    model.save(folder / "model.cnnkit")
    if class_names is not None:
        (folder / "class_names.json").write_text(json.dumps(class_names))
    return folder / "model.cnnkit"


@pytest.fixture(scope="module")
def mixed_sizes(tmp_path_factory) -> Path:
    """A folder dataset whose images differ in size: 8 RGB images per class, 9 to 20 pixels."""
    root = tmp_path_factory.mktemp("mixed")
    rng = np.random.default_rng(0)
    for label, name in enumerate(("dark", "light")):
        (root / name).mkdir()
        for index in range(8):
            height, width = rng.integers(9, 21, size=2)
            pixels = rng.integers(0, 100, (height, width, 3)) + 120 * label
            Image.fromarray(pixels.astype(np.uint8)).save(root / name / f"{index}.png")
    return root


# ----------------------------------------------------------- the same data flags everywhere
@pytest.mark.parametrize("command", DATA_COMMANDS)
def test_every_command_that_reads_a_dataset_takes_the_same_data_flags(capsys, command):
    result = run_here(capsys, command, "--help")
    assert result.returncode == 0, result.stderr
    assert "--dataset DATASET" in result.stdout and "--image-size H,W" in result.stdout


def test_evaluate_scores_a_run_trained_on_images_of_mixed_sizes(capsys, mixed_sizes, tmp_path):
    run_dir = tmp_path / "run"
    trained = cnnkit(
        "train", "--dataset", mixed_sizes, "--image-size", "12,12", "--epochs", "1",
        "--out", run_dir, "--no-report",
    )  # fmt: skip
    assert trained.returncode == 0, trained.stderr
    result = run_here(capsys, "evaluate", run_dir, "--dataset", mixed_sizes)
    assert result.returncode == 0, result.stderr
    assert f"test accuracy on {mixed_sizes}:" in result.stdout
    assert "of 3 images" in result.stdout  # int(16 * 0.2): the folder's test share
    same = run_here(capsys, "evaluate", run_dir, "--dataset", mixed_sizes, "--image-size", "12,12")
    assert same.returncode == 0, same.stderr


def test_evaluate_refuses_an_image_size_the_model_does_not_take(capsys, tmp_path):
    model = saved(tiny_model((12, 12, 1), 10), tmp_path)
    result = run_here(capsys, "evaluate", model, "--dataset", "digits", "--image-size", "16,16")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert (
        "cnnkit evaluate: error: --image-size 16,16 differs from the model's input size 12x12; "
        "leave --image-size out to use the model's size"
    ) in result.stderr


@pytest.mark.parametrize("command", ["train", "knn"])
def test_mixed_sizes_without_image_size_name_the_flag(capsys, mixed_sizes, tmp_path, command):
    extra = ["--out", tmp_path / "run"] if command == "train" else []
    result = run_here(capsys, command, "--dataset", mixed_sizes, *extra)
    assert result.returncode == 1, result.stderr
    message = result.stderr.strip()
    assert message.startswith(f"cnnkit: --dataset {mixed_sizes}: images differ in size (")
    assert message.endswith("pass --image-size H,W to resize them")
    assert "image_size=" not in message and "image_folder" not in message


def test_an_unreadable_image_in_a_folder_gets_advice_without_python_arguments(capsys, tmp_path):
    for name in ("cats", "dogs"):
        (tmp_path / name).mkdir()
        for index in range(3):
            Image.new("RGB", (8, 8)).save(tmp_path / name / f"{index}.png")
    broken = tmp_path / "cats" / "2.png"
    broken.write_text("not an image")
    result = run_here(capsys, "knn", "--dataset", tmp_path)
    assert result.returncode == 1 and result.stderr.count("\n") == 1
    assert result.stderr.startswith(
        f"cnnkit: --dataset {tmp_path}: cannot read image file {broken}"
    )
    assert result.stderr.endswith("(remove or replace that file)\n")
    assert "on_error" not in result.stderr


def test_a_folder_too_small_for_a_test_set_says_how_many_images_it_needs(capsys, tmp_path):
    for name in ("cats", "dogs"):
        (tmp_path / name).mkdir()
        Image.new("RGB", (8, 8)).save(tmp_path / name / "0.png")
    result = run_here(capsys, "knn", "--dataset", tmp_path)
    assert result.returncode == 1
    assert result.stderr == (
        f"cnnkit: --dataset {tmp_path}: 2 images are too few: 20% of a folder's images are kept "
        "aside as its test set, so it needs at least 5\n"
    )


def test_a_missing_folder_is_named_as_a_missing_folder(capsys, tmp_path):
    missing = tmp_path / "no-such-images"
    for argv in (
        ["train", "--dataset", missing],
        ["evaluate", "model.cnnkit", "--dataset", missing],
        ["knn", "--dataset", f"./{missing.name}"],
    ):
        result = run_here(capsys, *argv)
        assert result.returncode == 2, result.stderr
        assert "folder not found: '" in result.stderr and "unknown dataset" not in result.stderr
    named = run_here(capsys, "train", "--dataset", missing)
    assert f"argument --dataset: folder not found: {str(missing)!r}" in named.stderr
    a_file = tmp_path / "images.zip"
    a_file.write_bytes(b"PK")
    result = run_here(capsys, "train", "--dataset", a_file)
    assert result.returncode == 2
    assert f"{str(a_file)!r} is a file, not a folder of images" in result.stderr


# ----------------------------------------------------------------------- silent surprises
def test_evaluate_warns_when_the_model_was_trained_on_other_classes(capsys, tmp_path):
    model = saved(
        tiny_model((28, 28, 1), 10), tmp_path / "fashion", list(fashion_mnist.CLASS_NAMES)
    )
    result = run_here(capsys, "evaluate", model, "--dataset", "digits")
    assert result.returncode == 0, result.stderr
    assert (
        f"warning: {model} was trained on the classes 'T-shirt/top', 'Trouser', 'Pullover', "
        "'Dress', 'Coat', 'Sandal', ... (10 classes) but digits has '0', '1', '2', '3', '4', "
        "'5', ... (10 classes); the accuracy below matches classes by number only"
    ) in result.stderr
    assert "test accuracy on digits" in result.stdout


def test_evaluate_is_quiet_when_the_classes_agree(capsys, tmp_path):
    model = saved(tiny_model((28, 28, 1), 10), tmp_path / "digits", list(digits.CLASS_NAMES))
    result = run_here(capsys, "evaluate", model, "--dataset", "digits")
    assert result.returncode == 0 and result.stderr == ""


def test_evaluate_refuses_a_model_with_another_number_of_classes(capsys, tmp_path):
    model = saved(tiny_model((28, 28, 1), 3), tmp_path / "three", ["a", "b", "c"])
    result = run_here(capsys, "evaluate", model, "--dataset", "digits")
    assert result.returncode == 1
    assert f"cnnkit: {model} predicts 3 classes but digits has 10" in result.stderr


@pytest.mark.parametrize(
    ("channels", "pil_mode", "notice"),
    [
        (1, "RGB", "is RGB; converted to grayscale, the model's 1 channel"),
        (3, "L", "is grayscale; converted to RGB, the model's 3 channels"),
        (3, "RGBA", "is RGBA; converted to RGB, the model's 3 channels"),
        (1, "LA", "is grayscale with alpha; converted to grayscale, the model's 1 channel"),
    ],
)
def test_predict_announces_a_colour_conversion(capsys, tmp_path, channels, pil_mode, notice):
    model = saved(tiny_model((8, 8, channels), 2), tmp_path, ["a", "b"])
    image = tmp_path / "picture.png"
    Image.new(pil_mode, (8, 8)).save(image)
    result = run_here(capsys, "predict", model, image)
    assert result.returncode == 0, result.stderr
    assert f"note: {image} {notice}\n" in result.stdout


@pytest.mark.parametrize(("channels", "pil_mode"), [(1, "L"), (3, "RGB"), (4, "RGBA")])
def test_predict_is_quiet_when_the_colours_match(capsys, tmp_path, channels, pil_mode):
    model = saved(tiny_model((8, 8, channels), 2), tmp_path, ["a", "b"])
    image = tmp_path / "picture.png"
    Image.new(pil_mode, (8, 8)).save(image)
    result = run_here(capsys, "predict", model, image)
    assert result.returncode == 0, result.stderr
    assert "note:" not in result.stdout


@pytest.mark.parametrize("command", ["predict", "evaluate"])
def test_a_model_that_outputs_nan_is_refused_with_the_reason(capsys, tmp_path, command):
    model = tiny_model((8, 8, 1), 10)
    with torch.no_grad():
        for weight in model.parameters():
            weight.fill_(float("nan"))  # what a diverged run leaves
    path = saved(model, tmp_path, list(digits.CLASS_NAMES))
    image = tmp_path / "picture.png"
    Image.new("L", (8, 8)).save(image)
    target = [image] if command == "predict" else ["--dataset", "digits"]
    result = run_here(capsys, command, path, *target)
    assert result.returncode == 1 and result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"cnnkit: {path} outputs NaN or infinite scores for ")
    assert "its weights are probably broken (did its training diverge?)" in result.stderr


@pytest.mark.parametrize("command", ["demo", "train"])
def test_an_out_that_cannot_be_a_folder_is_refused_before_any_work(capsys, tmp_path, command):
    existing_file = tmp_path / "notes.txt"
    existing_file.write_text("keep me")
    dataset = ["--dataset", "digits"] if command == "train" else []
    for out, where in ((existing_file, "is a file"), (existing_file / "run", "is inside")):
        result = run_here(capsys, command, *dataset, "--out", out, "--epochs", "1")
        assert result.returncode == 2, result.stderr
        assert f"cnnkit {command}: error: --out {str(out)!r} {where}" in result.stderr
        assert "give a folder (new or existing)" in result.stderr
        assert result.stdout == ""  # nothing loaded, nothing trained
    assert existing_file.read_text() == "keep me"
