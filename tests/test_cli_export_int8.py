"""``cnnkit export --quantize int8``: the int8 file is written from the calibration data the
command reads (dataset name, folder of images, .npy/.npz), then compared with float32."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from cli_helpers import run_here
from PIL import Image

import cnnkit
from cnnkit.cli import _data

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")
pytest.importorskip("onnxscript")

from cnnkit.export import load_onnx  # noqa: E402


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    """LeNet-5 trained for two epochs on the digits, saved as ``cnnkit train`` saves it."""
    data = _data.load_for_model("digits", (32, 32, 1))
    cnnkit.utils.set_random_seed(0)
    model = cnnkit.zoo.get("lenet5")
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(_data.scaled(data.x_train), data.y_train, epochs=2, batch_size=32, verbose=0)
    path = tmp_path_factory.mktemp("run") / "best.cnnkit"
    model.save(path)
    return path


def test_int8_export_reports_agreement_accuracy_and_latency(capsys, trained, tmp_path):
    out = tmp_path / "m.onnx"
    result = run_here(
        capsys, "export", trained, out, "--quantize", "int8",
        "--calibration-data", "digits", "--validation-data", "digits",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == (
        f"wrote {out} (onnx, opset 18, int8: ONNX Runtime static quantization calibrated on "
        f"512 images) from {trained}"
    )
    agreement = re.fullmatch(
        r"int8 keeps float32's top class on (\d+\.\d)% of the 512 calibration images", lines[1]
    )
    assert agreement and float(agreement.group(1)) >= 95
    accuracy = re.fullmatch(
        r"accuracy on digits \(355 test images\): float32 (0\.\d{4}), int8 (0\.\d{4}) "
        r"\(([+-]\d+\.\d\d) points\)",
        lines[2],
    )
    assert accuracy, lines[2]
    scores = [float(accuracy.group(i)) for i in (1, 2)]
    assert scores[0] > 0.8 and abs(scores[1] - scores[0]) <= 0.02
    assert float(accuracy.group(3)) == pytest.approx(100 * (scores[1] - scores[0]), abs=0.06)
    assert lines[3].startswith("latency with ONNX Runtime on this CPU (median of 7 interleaved")
    timed = r"  batch +{}: float32 \d+\.\d{{3}} ms, int8 \d+\.\d{{3}} ms per call \(int8 \d+\.\d\dx (faster|slower)\)"
    verdicts = [re.fullmatch(timed.format(batch), line) for batch, line in zip((1, 64), lines[4:6])]
    assert all(verdicts), lines[4:6]
    slower = [batch for batch, v in zip((1, 64), verdicts) if v.group(1) == "slower"]
    if slower:
        named = " and ".join(f"batch {batch}" for batch in slower)
        assert lines[6] == (
            f"int8 is not faster than float32 on this CPU at {named}; float32 stays the default "
            "(export without --quantize)"
        )
    else:
        assert lines[6] == "int8 is faster than float32 on this CPU at every batch size timed"
    assert len(lines) == 7
    assert load_onnx(out).precision == "int8"


def test_calibration_images_from_a_folder_and_an_array(capsys, trained, tmp_path):
    folder = tmp_path / "images" / "some_class"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for index in range(5):  # 28x28 RGB: converted to gray and resized to 32x32
        Image.fromarray(rng.integers(0, 255, (28, 28, 3), dtype=np.uint8)).save(
            folder / f"{index}.png"
        )
    (folder / "notes.txt").write_text("not an image")
    result = run_here(
        capsys, "export", trained, tmp_path / "a.onnx", "--quantize", "int8",
        "--calibration-data", tmp_path / "images",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "note: 5 of 5 calibration images resized to 32x32"
    assert "calibrated on 5 images" in result.stdout
    assert "of the 5 calibration images" in result.stdout


def test_calibration_arrays_are_read_as_the_model_takes_them(tmp_path):
    from cnnkit.cli import _calibration

    rng = np.random.default_rng(0)
    floats = rng.random((20, 32, 32, 1), dtype=np.float32)
    np.savez(tmp_path / "cal.npz", x=floats, y=np.zeros(20))
    np.testing.assert_array_equal(_calibration.read(str(tmp_path / "cal.npz"), (32, 32, 1)), floats)
    pixels = rng.integers(0, 256, (600, 32, 32), dtype=np.uint8)  # no channel axis, 600 > 512
    np.save(tmp_path / "cal.npy", pixels)
    got = _calibration.read(str(tmp_path / "cal.npy"), (32, 32, 1))
    spaced = np.linspace(0, 599, 512).astype(int)
    np.testing.assert_allclose(got, pixels[spaced, ..., None] / np.float32(255), rtol=1e-6)
    assert got.dtype == np.float32


@pytest.mark.parametrize(
    "extra, code, message",
    [
        (["--quantize", "int8"], 2,
         "--quantize int8 needs --calibration-data: a folder of images, an .npy/.npz "
         "array or a dataset name (a few hundred training images)\n"),
        (["--calibration-data", "digits"], 2,
         "--calibration-data applies to --quantize int8 only\n"),
        (["--quantize", "int8", "--calibration-data", "digits", "--format", "torchscript"], 2,
         "--quantize int8 applies to --format onnx only (got torchscript)\n"),
        (["--quantize", "int8", "--calibration-data", "WRONG.npy"], 1,
         "--calibration-data WRONG.npy: the model takes images of shape (n, 32, 32, 1); "
         "the array has shape (4, 28, 28, 1)\n"),
        (["--quantize", "int8", "--calibration-data", "nowhere"], 1,
         "--calibration-data nowhere: no such file or folder; give a folder of images, "
         "an image file, an .npy/.npz array of images or a dataset name (digits, mnist, "
         "fashion_mnist, cifar10, cifar100)\n"),
    ],
)  # fmt: skip
def test_bad_int8_flags_are_named(capsys, trained, tmp_path, monkeypatch, extra, code, message):
    monkeypatch.chdir(tmp_path)
    np.save(tmp_path / "WRONG.npy", np.zeros((4, 28, 28, 1), np.uint8))
    result = run_here(capsys, "export", trained, tmp_path / "m.onnx", *extra)
    assert result.returncode == code
    prefix = "usage: cnnkit export --help\ncnnkit export: error: " if code == 2 else "cnnkit: "
    assert result.stderr == prefix + message
    assert not (tmp_path / "m.onnx").exists()


def test_an_unknown_quantize_value_is_a_usage_error(capsys, tmp_path):
    result = run_here(
        capsys, "export", tmp_path / "m.cnnkit", tmp_path / "m.onnx", "--quantize", "int4"
    )
    assert result.returncode == 2
    pattern = r"argument --quantize: invalid choice: 'int4' \(choose from '?int8'?\)"
    assert re.search(pattern, result.stderr)
