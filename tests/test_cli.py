"""The command line, run as a user runs it: ``python -m cnnkit ...`` in a fresh process.

Training runs are tiny (one epoch on the embedded digits or on a generated folder of images);
the digits run is shared by the tests that read a run folder.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from cli_helpers import cnnkit, run_here, write_stripes
from PIL import Image

from cnnkit import cli
from cnnkit.cli._schedule import END, START, WARMUP, OneCycle
from cnnkit.models import load_model

COMMANDS = (
    "demo", "train", "lr-find", "evaluate", "predict", "explain", "export", "summary", "knn",
    "report", "audit", "walkthrough", "serve",
)  # fmt: skip


def test_the_command_list_names_every_command():
    from cnnkit.cli import COMMANDS as REGISTERED

    assert set(COMMANDS) == set(REGISTERED)


def failed_with(result: subprocess.CompletedProcess, code: int, text: str) -> bool:
    """The process exited with ``code`` and a one-line, traceback-free message holding ``text``."""
    assert result.returncode == code, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    assert text in result.stderr, result.stderr
    if code == 1:
        assert result.stderr.startswith("cnnkit: ") and result.stderr.count("\n") == 1
    return True


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory) -> Path:
    """A one-epoch training run on the digits, shared by the tests that only read it (its
    report is built by the ``report`` command's test)."""
    run_dir = tmp_path_factory.mktemp("runs") / "digits"
    result = cnnkit(
        "train", "--dataset", "digits", "--epochs", "1", "--out", run_dir, "--no-report"
    )
    assert result.returncode == 0, result.stderr
    assert "test accuracy:" in result.stdout
    return run_dir


@pytest.fixture(scope="module")
def stripes(tmp_path_factory) -> Path:
    """A folder dataset of horizontal or vertical stripes."""
    return write_stripes(tmp_path_factory.mktemp("stripes"))


# ---------------------------------------------------------------- usage, help, exit codes
def test_no_arguments_prints_help_and_where_to_start():
    result = cnnkit()
    assert result.returncode == 0, result.stderr
    assert "usage: cnnkit" in result.stdout and "cnnkit demo" in result.stdout
    for command in COMMANDS:
        assert command in result.stdout


@pytest.mark.parametrize("command", COMMANDS)
def test_every_subcommand_has_help(capsys, command):
    result = run_here(capsys, command, "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"usage: cnnkit {command}")


def test_usage_errors_exit_2_with_argparse_message(capsys):
    unknown_command = run_here(capsys, "fly")
    assert unknown_command.returncode == 2 and "invalid choice: 'fly'" in unknown_command.stderr
    missing = run_here(capsys, "evaluate", "model.cnnkit")
    assert missing.returncode == 2 and "--dataset" in missing.stderr
    bad_epochs = run_here(capsys, "train", "--dataset", "digits", "--epochs", "0")
    assert bad_epochs.returncode == 2 and "expected an integer >= 1; got '0'" in bad_epochs.stderr
    train_without_dataset = run_here(capsys, "train")
    assert train_without_dataset.returncode == 2
    assert "cnnkit train: error: --dataset is required" in train_without_dataset.stderr


def test_unknown_dataset_is_a_usage_error_listing_the_accepted_ones(capsys):
    result = run_here(capsys, "train", "--dataset", "fashion-mnistt")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "unknown dataset 'fashion-mnistt': use one of digits, mnist, fashion_mnist" in (
        result.stderr
    )
    assert "Did you mean 'fashion_mnist'?" in result.stderr


# ---------------------------------------------------------------- summary
def test_summary_of_lenet5_by_default_and_by_name(capsys):
    result = cnnkit("summary", "lenet5")
    assert result.returncode == 0, result.stderr
    assert "Total params: 61,706" in result.stdout
    assert "Total params: 61,706" in run_here(capsys, "summary").stdout


def test_summary_options_reach_the_model(capsys):
    result = run_here(
        capsys, "summary", "lenet5", "--input-shape", "32,32,3", "--formulas", "--batch-size", "64"
    )
    assert result.returncode == 0, result.stderr
    assert "Total params: 62,006" in result.stdout
    assert "6 × (5×5×3) + 6 = 456" in result.stdout
    assert "Training memory for a batch of 64" in result.stdout


def test_summary_of_unknown_model_is_a_one_line_failure():
    result = cnnkit("summary", "resnet9000")
    assert failed_with(result, 1, "cnnkit: zoo.get: unknown model 'resnet9000'")
    assert "No model file of that name either." in result.stderr


def test_bad_input_shape_is_a_usage_error(capsys):
    result = run_here(capsys, "summary", "lenet5", "--input-shape", "32x32")
    assert result.returncode == 2 and "--input-shape must be comma-separated ints" in result.stderr


# ---------------------------------------------------------------- train and its run folder
def test_train_writes_a_complete_run_folder(digits_run):
    state = json.loads((digits_run / "run.json").read_text())
    assert state["dataset"] == "digits" and state["model"] == "small_cnn"
    assert state["epochs"] == 1 and state["epochs_done"] == 1
    assert state["settings"]["image_size"] == [32, 32]
    assert 0.0 <= state["test_accuracy"] <= 1.0 and "best_val_accuracy" in state
    for name in ("last.cnnkit", "best.cnnkit", "history.csv"):
        assert (digits_run / name).is_file(), name
    assert any(
        path.name.startswith("events.out.tfevents") for path in (digits_run / "logs").rglob("*")
    )
    assert json.loads((digits_run / "class_names.json").read_text()) == [str(d) for d in range(10)]
    with open(digits_run / "history.csv", newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert [row["epoch"] for row in rows] == ["0"]
    assert {"loss", "accuracy", "val_loss", "val_accuracy", "learning_rate"} <= set(rows[0])


def test_resume_continues_from_the_last_checkpoint(digits_run, tmp_path):
    run_dir = tmp_path / "run"
    shutil.copytree(digits_run, run_dir)
    result = cnnkit("train", "--out", run_dir, "--resume", "--epochs", "2", "--no-report")
    assert result.returncode == 0, result.stderr
    assert "resuming" in result.stdout and "at epoch 2 of 2" in result.stdout
    state = json.loads((run_dir / "run.json").read_text())
    assert state["epochs"] == 2 and state["epochs_done"] == 2
    with open(run_dir / "history.csv", newline="") as stream:
        assert [row["epoch"] for row in csv.DictReader(stream)] == ["0", "1"]
    finished = cnnkit("train", "--out", run_dir, "--resume")
    assert finished.returncode == 0 and "all 2 epochs are done" in finished.stdout


def test_train_refuses_to_overwrite_or_change_a_run(capsys, digits_run):
    again = run_here(capsys, "train", "--dataset", "digits", "--out", digits_run)
    assert failed_with(again, 1, "already holds a run; pass --resume")
    changed = run_here(
        capsys, "train", "--out", digits_run, "--resume", "--epochs", "3", "--lr", "0.1"
    )
    assert failed_with(changed, 1, "drop --lr")
    smoothed = run_here(
        capsys, "train", "--out", digits_run, "--resume", "--label-smoothing", "0.1"
    )
    assert failed_with(smoothed, 1, "drop --label-smoothing")
    wider = run_here(capsys, "train", "--out", digits_run, "--resume", "--width", "8")
    assert failed_with(wider, 1, "drop --width")
    nothing = run_here(capsys, "train", "--out", digits_run.parent / "empty", "--resume")
    assert failed_with(nothing, 1, "is not a run folder written by cnnkit train")


def test_a_refused_setting_leaves_the_run_it_would_replace(capsys, digits_run, tmp_path):
    run_dir = tmp_path / "run"
    shutil.copytree(digits_run, run_dir)
    before = sorted(path.name for path in run_dir.iterdir())
    refused = run_here(
        capsys, "train", "--dataset", "digits", "--model", "lenet5", "--width", "8",
        "--out", run_dir, "--overwrite",
    )  # fmt: skip
    assert failed_with(
        refused, 2, "--width 8: the model lenet5 has no width; models with one: resnet, small_cnn"
    )
    assert sorted(path.name for path in run_dir.iterdir()) == before
    unknown = run_here(
        capsys, "train", "--dataset", "digits", "--model", "alexnet", "--out", run_dir,
        "--overwrite",
    )  # fmt: skip
    assert failed_with(unknown, 1, "unknown model 'alexnet'")
    assert sorted(path.name for path in run_dir.iterdir()) == before


@pytest.mark.parametrize("width", [10**9, "48", True, 0])
def test_resume_refuses_a_run_json_with_a_bad_width(capsys, digits_run, tmp_path, width):
    run_dir = tmp_path / "run"
    shutil.copytree(digits_run, run_dir)
    state = json.loads((run_dir / "run.json").read_text())
    state["settings"]["width"] = width
    (run_dir / "run.json").write_text(json.dumps(state))
    refused = run_here(capsys, "train", "--out", run_dir, "--resume", "--epochs", "2")
    assert failed_with(
        refused, 1, f"settings.width must be null or a whole number from 1 to 1024; got {width!r}"
    )


def test_a_diverging_run_fails_with_a_hint(tmp_path):
    result = cnnkit(
        "train", "--dataset", "digits", "--epochs", "1", "--lr", "1e30", "--out", tmp_path / "nan"
    )
    assert failed_with(result, 1, "training diverged")
    assert "try a lower --lr" in result.stderr
    assert not (tmp_path / "nan" / "last.cnnkit").exists()


def test_train_on_a_folder_of_images_with_augmentation(stripes, tmp_path):
    result = cnnkit(
        "train",
        "--dataset",
        stripes,
        "--epochs",
        "1",
        "--augment",
        "--label-smoothing",
        "0.2",
        "--width",
        "8",
        "--no-report",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "report" not in result.stdout
    run_dir = tmp_path / "runs" / f"{stripes.name}-small_cnn"
    state = json.loads((run_dir / "run.json").read_text())
    assert state["dataset"] == str(stripes) and state["settings"]["augment"] is True
    assert state["settings"]["label_smoothing"] == 0.2 and state["settings"]["width"] == 8
    assert json.loads((run_dir / "class_names.json").read_text()) == ["horizontal", "vertical"]
    model = load_model(run_dir / "last.cnnkit")
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds[:3] == ["RandomFlip", "RandomTranslation", "Conv2D"]
    assert [layer.filters for layer in model.layers if hasattr(layer, "filters")] == [8, 16]
    assert model.input_shape == (None, 16, 16, 3)
    assert model.loss.get_config()["label_smoothing"] == 0.2  # saved with the model
    assert not (run_dir / "report.html").exists()


# ---------------------------------------------------------------- evaluate, predict, report
def test_evaluate_prints_overall_and_per_class_accuracy(digits_run):
    result = cnnkit("evaluate", digits_run, "--dataset", "digits")
    assert result.returncode == 0, result.stderr
    assert str(digits_run / "best.cnnkit") in result.stdout
    assert "test accuracy on digits:" in result.stdout and "of 355 images" in result.stdout
    assert sum(line.split()[0].isdigit() for line in result.stdout.splitlines()[3:]) == 10


def test_evaluate_needs_an_existing_model_file(capsys, tmp_path):
    result = run_here(capsys, "evaluate", tmp_path / "missing.cnnkit", "--dataset", "digits")
    assert failed_with(result, 1, "no model file at")


def test_predict_resizes_with_a_notice_and_ranks_named_classes(digits_run, tmp_path):
    image = tmp_path / "seven.png"
    Image.fromarray(np.eye(8, dtype=np.uint8)[::-1] * 255).save(image)  # 8x8; the model takes 32x32
    result = cnnkit("predict", digits_run, image, "--top-k", "4")
    assert result.returncode == 0, result.stderr
    assert f"note: {image} is 8x8; resized to the model's 32x32" in result.stdout
    lines = result.stdout.splitlines()
    ranked = lines[lines.index(str(image)) + 1 :]
    assert [line.split()[0] for line in ranked] == ["1.", "2.", "3.", "4."]
    assert all(line.split()[1] in "0123456789" for line in ranked)
    probabilities = [float(line.split()[2]) for line in ranked]
    assert probabilities == sorted(probabilities, reverse=True) and sum(probabilities) <= 1.0001


def test_predict_class_names_option(capsys, digits_run, tmp_path):
    image = tmp_path / "blank.png"
    Image.new("L", (32, 32)).save(image)
    names = ",".join(f"digit{d}" for d in range(10))
    result = cnnkit("predict", digits_run / "last.cnnkit", image, "--class-names", names)
    assert result.returncode == 0, result.stderr
    assert "resized" not in result.stdout and " digit" in result.stdout
    wrong = run_here(capsys, "predict", digits_run, image, "--class-names", "cat,dog")
    assert failed_with(wrong, 1, "2 class names given but the model predicts 10 classes")


def test_unreadable_image_is_a_clear_failure_and_debug_shows_the_traceback(
    capsys, digits_run, tmp_path
):
    fake = tmp_path / "photo.png"
    fake.write_text("not an image")
    result = cnnkit("predict", digits_run, fake)
    assert failed_with(result, 1, f"cnnkit: cannot read image file {fake}")
    debug = run_here(capsys, "--debug", "predict", digits_run, fake)
    assert debug.returncode == 1 and "Traceback" in debug.stderr


def test_report_rebuilds_from_the_run_folder(digits_run, tmp_path):
    run_dir = tmp_path / "run"
    shutil.copytree(digits_run, run_dir)
    (run_dir / "report.html").unlink(missing_ok=True)
    result = cnnkit("report", run_dir)
    assert result.returncode == 0, result.stderr
    assert f"report: {run_dir / 'report.html'}" in result.stdout
    page = (run_dir / "report.html").read_text()
    assert '<section id="training">' in page and "small_cnn on digits" in page


# ---------------------------------------------------------------- knn and demo
def test_knn_prints_the_selection_table_and_the_test_accuracy():
    result = cnnkit("knn", "--dataset", "digits", "--k", "1,3", "--metric", "l1,l2")
    assert result.returncode == 0, result.stderr
    assert "Validation accuracy (" in result.stdout and "best: k=" in result.stdout
    header = next(line for line in result.stdout.splitlines() if line.split()[:1] == ["k"])
    assert header.split() == ["k", "l1", "l2"]
    assert "test accuracy with k=" in result.stdout and "(355 images)" in result.stdout


def test_demo_compares_knn_lenet5_and_small_cnn(tmp_path):
    out = tmp_path / "demo"
    result = cnnkit("demo", "--epochs", "1", "--out", out)
    assert result.returncode == 0, result.stderr
    table = result.stdout[result.stdout.index("model  ") :].splitlines()
    names = [line.split("  ")[0].strip() for line in table[1:5]]
    assert names[0].startswith("kNN (L1, k=") and names[1].startswith("kNN (L2, k=")
    assert names[2:] == ["lenet5", "small_cnn"]
    accuracies = [float(line.split()[-3]) for line in table[1:5]]
    assert accuracies[0] > 0.9 and accuracies[1] > 0.9  # kNN is strong on digits
    assert (out / "lenet5.cnnkit").is_file() and (out / "small_cnn.cnnkit").is_file()
    assert f"report: {out / 'report.html'}" in result.stdout
    page = (out / "report.html").read_text()
    assert names[0] in page and names[1] in page  # the demo's own kNN baselines, not recomputed


def test_one_cycle_warms_up_linearly_then_decays_to_a_small_rate():
    """The command line's recipe is the public OneCycle, rising linearly."""
    schedule = OneCycle(0.01, epochs=1)
    schedule.total_steps = 100
    rates = [schedule.values(step)[0] for step in range(100)]
    top = int(WARMUP * 100) - 1  # OneCycleLR's last step of the rise
    assert rates[0] == pytest.approx(0.01 * START) and rates[top] == pytest.approx(0.01)
    rise = np.diff(rates[: top + 1])
    np.testing.assert_allclose(rise, rise[0])  # linear
    assert rates[top:] == sorted(rates[top:], reverse=True)
    assert rates[-1] == pytest.approx(0.01 * END)
    assert not schedule.cycle_momentum


# ---------------------------------------------------------------------- bad arguments
# fmt: off
@pytest.mark.parametrize(
    ("argv", "code", "pattern"),
    [
        pytest.param(["summary", "alexnet"], 1, r"unknown model 'alexnet'.*Did you mean 'lenet5'", id="unknown-model"),
        pytest.param(["summary", "lenet5", "--input-shape", "a,b"], 2, r"--input-shape must be comma-separated ints .*'a,b'", id="input-shape-not-ints"),
        pytest.param(["summary", "lenet5", "--input-shape", "4,4,1"], 1, r"kernel_size \(5, 5\).*larger than the input height 4", id="input-shape-too-small"),
        pytest.param(["summary", "lenet5", "--input-shape", "32,32"], 2, r"--input-shape must be comma-separated ints such as 32,32,3; got '32,32'", id="input-shape-without-channels"),
        pytest.param(["summary", "lenet5", "--input-shape=0,32,1"], 2, r"--input-shape must be comma-separated ints such as 32,32,3; got '0,32,1'", id="input-shape-zero"),
        pytest.param(["train"], 2, r"--dataset is required", id="train-without-dataset"),
        pytest.param(["train", "--dataset", "digits", "--label-smoothing", "1.5"], 2, r"--label-smoothing: expected a fraction in \[0, 1\) such as 0.1; got '1.5'", id="label-smoothing-too-big"),
        pytest.param(["train", "--dataset", "digits", "--width", "0"], 2, r"--width", id="width-zero"),
        pytest.param(["train", "--dataset", "digits", "--width", "2000"], 2, r"--width 2000: at most 1024 filters", id="width-too-big"),
        pytest.param(["fly"], 2, r"invalid choice: 'fly'", id="unknown-command"),
        pytest.param(["summary", "--input_shape", "3"], 2, r"unrecognized arguments: --input_shape", id="misspelled-option"),
    ],
)
# fmt: on
def test_command_line_rejects_bad_arguments(argv, code, pattern):
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            result = cli.main(argv)
        except SystemExit as exit_:  # argparse's usage errors
            result = exit_.code
    assert result == code
    assert err.getvalue().startswith(("cnnkit: ", "usage: cnnkit"))
    assert re.search(pattern, err.getvalue()), err.getvalue()
