"""``cnnkit train --tta``: test-time augmentation kept only when the validation images do not
lose accuracy with it, recorded in run.json and used by ``evaluate`` and ``predict``."""

from __future__ import annotations

import csv
import json
import re

import numpy as np
import pytest
import torch
from cli_helpers import cnnkit, run_here
from PIL import Image

import cnnkit as ck
from cnnkit import layers
from cnnkit.cli import _tta
from cnnkit.cli._errors import CommandError

FLIPS = {"augment": True, "flip": True, "shift": 0.0}


def linear_model(weights: np.ndarray, threshold: float) -> ck.Sequential:
    """A 2-class softmax on (2, 4, 1) images: class 1 when sum(weights * image) > threshold."""
    model = ck.Sequential(
        [layers.Input((2, 4, 1)), layers.Flatten(), layers.Dense(2, activation="softmax")]
    )
    model.compile(loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    kernel = np.stack([-weights.ravel(), weights.ravel()], axis=1).astype("float32")
    model.layers[-1].set_weights([kernel, np.array([threshold, -threshold], "float32")])
    return model


@pytest.fixture(scope="module")
def images() -> np.ndarray:
    return np.random.default_rng(0).random((200, 2, 4, 1)).astype("float32")


def side_case(images):
    """Labels saying which half is brighter, and the exact model: mirrors swap the labels,
    so averaging over them hurts."""
    left = np.array([[1, 1, -1, -1]] * 2, "float32")
    labels = (np.sum(images[..., 0] * left, axis=(1, 2)) > 0).astype("int64")
    return linear_model(left, 0.0), labels


def tilted_case(images):
    """Labels of a mirror-symmetric rule and a model tilted to one side: the mirror's tilt
    cancels it, so averaging over mirrors helps."""
    symmetric = np.array([[1, 2, 2, 1]] * 2, "float32")
    score = np.sum(images[..., 0] * symmetric, axis=(1, 2))
    labels = (score > np.median(score)).astype("int64")
    tilt = np.array([[1.5, 0.5, -0.5, -1.5]] * 2, "float32")
    return linear_model(symmetric + tilt, float(np.median(score))), labels


@pytest.mark.parametrize(("case", "expected"), [(side_case, False), (tilted_case, True)])
def test_auto_keeps_tta_only_when_validation_accuracy_does_not_drop(images, case, expected):
    model, labels = case(images)
    plain = model.evaluate(images, labels, verbose=0, return_dict=True)["accuracy"]
    averaged = model.evaluate(images, labels, verbose=0, tta="flip", return_dict=True)["accuracy"]
    assert (averaged >= plain) is expected  # the cases are what they claim
    choice = _tta.decide("auto", FLIPS, model, (images, labels))
    assert choice == {
        "mode": "auto",
        "views": "flip",
        "on": expected,
        "val_accuracy": pytest.approx(plain),
        "val_accuracy_tta": pytest.approx(averaged),
    }
    state = "on" if expected else "off"
    assert _tta.describe(choice) == (
        f"test-time augmentation (flip): {state} (validation accuracy {averaged:.4f} with, "
        f"{plain:.4f} without)"
    )


def test_on_and_off_override_the_validation_numbers(images):
    model, labels = side_case(images)  # tta hurts here
    forced = _tta.decide("on", FLIPS, model, (images, labels))
    assert forced["on"] and forced["val_accuracy_tta"] < forced["val_accuracy"]
    assert _tta.describe(forced).endswith("without, as --tta on asks)")
    assert _tta.decide("off", FLIPS, model, (images, labels)) == {
        "mode": "off",
        "views": "flip",
        "on": False,
    }
    assert _tta.decide("auto", FLIPS, model, None)["on"] is False  # no validation split


@pytest.mark.parametrize(
    ("settings", "views"),
    [
        ({"augment": False, "flip": True, "shift": 0.1}, None),
        ({"augment": True, "flip": True, "shift": 0.0}, "flip"),
        ({"augment": True, "flip": True, "shift": 0.1}, "flip+translate"),
        ({"augment": True, "flip": False, "shift": 0.1}, "translate"),
        ({"augment": True, "flip": False, "shift": 0.0}, None),
    ],
)
def test_views_follow_the_recipes_augmentation(settings, views):
    assert _tta.views_for(settings) == views


def test_translate_views_move_by_two_pixels_with_a_black_border():
    images = torch.arange(1, 1 + 2 * 5 * 6, dtype=torch.float32).reshape(2, 5, 6, 1)
    moved = [view(images.clone()) for view in _tta.argument("translate")]
    expected = np.zeros((4, 2, 5, 6, 1), "float32")
    x = images.numpy()
    expected[0][:, :, 2:] = x[:, :, :-2]  # right
    expected[1][:, :, :-2] = x[:, :, 2:]  # left
    expected[2][:, 2:] = x[:, :-2]  # down
    expected[3][:, :-2] = x[:, 2:]  # up
    np.testing.assert_array_equal(np.stack([m.numpy() for m in moved]), expected)


def test_bad_tta_mode_is_a_usage_error(capsys):
    result = run_here(capsys, "train", "--dataset", "digits", "--tta", "maybe")
    assert result.returncode == 2
    assert "argument --tta: invalid choice: 'maybe' (choose from" in result.stderr


def test_tta_on_without_augmentation_is_refused_before_training(capsys, tmp_path):
    result = run_here(
        capsys, "train", "--dataset", "digits", "--tta", "on", "--out", tmp_path / "run"
    )
    assert result.returncode == 2
    assert (
        "--tta on averages over the run's flips or shifts, and this run trains with none; "
        "add --augment, or use --tta auto" in result.stderr
    )
    assert not (tmp_path / "run" / "history.csv").exists()


def test_a_tampered_choice_in_run_json_is_refused(tmp_path):
    state = {"dataset": "digits", "model": "m", "epochs": 1, "epochs_done": 1, "settings": {}}
    (tmp_path / "run.json").write_text(json.dumps({**state, "tta": {"on": True, "views": "x"}}))
    with pytest.raises(CommandError, match=r"tta views must be .* Received: 'x'"):
        _tta.stored(tmp_path / "best.cnnkit")
    (tmp_path / "run.json").write_text(json.dumps({**state, "tta": {"on": False, "views": "x"}}))
    assert _tta.stored(tmp_path / "best.cnnkit") is None


def test_train_records_the_choice_and_evaluate_and_predict_use_it(tmp_path, capsys):
    """A forced choice (what auto decides is tested above on models where TTA helps or hurts),
    so that evaluate and predict are seen averaging whatever one epoch's numbers say."""
    run_dir, mode = tmp_path / "run", "on"
    result = cnnkit(
        "train", "--dataset", "digits", "--epochs", "1", "--augment", "--tta", mode,
        "--out", run_dir, "--no-report",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    state = json.loads((run_dir / "run.json").read_text())
    choice = state["tta"]
    assert choice["mode"] == mode and choice["views"] == "translate"  # digits: shifts, no flips
    with (run_dir / "history.csv").open() as file:
        last = list(csv.DictReader(file))[-1]
    assert choice["val_accuracy"] == pytest.approx(float(last["val_accuracy"]), abs=1e-6)
    assert choice["on"] is True
    assert _tta.describe(choice) in result.stdout
    assert "as --tta on asks" in result.stdout
    # one epoch: best.cnnkit is the model train scored, so evaluate reproduces its numbers
    plain = state["test_accuracy_without_tta"]
    shown = run_here(capsys, "evaluate", run_dir, "--dataset", "digits")
    assert shown.returncode == 0, shown.stderr
    assert "test-time augmentation: translate (chosen by cnnkit train" in shown.stdout
    assert re.search(rf"test accuracy on digits: {state['test_accuracy']:.4f} ", shown.stdout)
    skipped = run_here(capsys, "evaluate", run_dir, "--dataset", "digits", "--no-tta")
    assert "test-time augmentation" not in skipped.stdout
    assert re.search(rf"test accuracy on digits: {plain:.4f} ", skipped.stdout)
    image = tmp_path / "blank.png"
    Image.fromarray(np.zeros((32, 32), np.uint8)).save(image)
    predicted = run_here(capsys, "predict", run_dir, image)
    assert predicted.returncode == 0, predicted.stderr
    assert "test-time augmentation: translate" in predicted.stdout
