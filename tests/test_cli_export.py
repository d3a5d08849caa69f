"""``cnnkit export`` and exported .onnx files in ``cnnkit predict`` / ``cnnkit evaluate``: the
exported file prints what the cnnkit model prints."""

from __future__ import annotations

import contextlib
import io
import json
import sys
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

NAMES = [f"digit{d}" for d in range(10)]


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    """LeNet-5 trained for two epochs on the digits as the command line reads them, saved with
    its class names beside it, as ``cnnkit train`` leaves a run folder."""
    data = _data.load_for_model("digits", (32, 32, 1))
    cnnkit.utils.set_random_seed(0)
    model = cnnkit.zoo.get("lenet5")
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(_data.scaled(data.x_train), data.y_train, epochs=2, batch_size=32, verbose=0)
    folder = tmp_path_factory.mktemp("run")
    model.save(folder / "best.cnnkit")
    (folder / "class_names.json").write_text(json.dumps(NAMES))
    return folder


@pytest.fixture(scope="module")
def exported(trained, tmp_path_factory) -> Path:
    """The run's model exported to ONNX in another folder (no class_names.json beside it)."""
    out = tmp_path_factory.mktemp("deploy") / "digits.onnx"
    with contextlib.redirect_stdout(io.StringIO()):
        code = cnnkit.cli.main(["export", str(trained), str(out)])
    assert code == 0 and out.is_file()
    return out


def test_export_writes_onnx_and_checks_it(capsys, trained, tmp_path):
    result = run_here(capsys, "export", trained / "best.cnnkit", tmp_path / "m.onnx")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == (
        f"wrote {tmp_path / 'm.onnx'} (onnx, opset 18, 10 class names) from "
        f"{trained / 'best.cnnkit'}"
    )
    assert lines[1].startswith("checked with ONNX Runtime on 8 random images: outputs within ")


def test_export_chooses_torchscript_for_pt_and_opset_is_onnx_only(capsys, trained, tmp_path):
    import torch

    result = run_here(capsys, "export", trained, tmp_path / "m.pt")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"wrote {tmp_path / 'm.pt'} (torchscript, 10 class names)")
    images = np.random.default_rng(0).random((3, 32, 32, 1), dtype=np.float32)
    model = cnnkit.models.load_model(trained / "best.cnnkit")
    with torch.no_grad():
        got = torch.jit.load(str(tmp_path / "m.pt"))(torch.from_numpy(images)).numpy()
    np.testing.assert_allclose(got, model.predict(images, verbose=0), rtol=0, atol=1e-6)
    wrong = run_here(capsys, "export", trained, tmp_path / "n.pt", "--opset", "18")
    assert wrong.returncode == 2 and "--opset applies to --format onnx only" in wrong.stderr
    low = run_here(capsys, "export", trained, tmp_path / "n.onnx", "--opset", "12")
    assert low.returncode == 1
    assert low.stderr.startswith("cnnkit: export: opset_version must be an int in [18, ")


def test_predict_with_the_onnx_file_prints_what_the_model_prints(capsys, trained, exported):
    folder = exported.parent
    data = _data.load_for_model("digits", (32, 32, 1))
    images = []
    for index, digit in enumerate((0, 3, 7)):
        image = data.x_test[list(data.y_test).index(digit)][..., 0]
        images.append(folder / f"{index}.png")
        Image.fromarray(image).save(images[-1])
    from_model = run_here(capsys, "predict", trained, *images)
    from_onnx = run_here(capsys, "predict", exported, *images)
    assert from_model.returncode == from_onnx.returncode == 0, from_onnx.stderr
    assert from_onnx.stdout == from_model.stdout  # class names come from the file's metadata
    assert "digit" in from_onnx.stdout


def test_evaluate_with_the_onnx_file_prints_the_same_scores(capsys, trained, exported):
    from_model = run_here(capsys, "evaluate", trained, "--dataset", "digits")
    from_onnx = run_here(capsys, "evaluate", exported, "--dataset", "digits")
    assert from_onnx.returncode == 0, from_onnx.stderr
    assert from_onnx.stdout.splitlines()[0] == f"model: {exported}"
    assert from_onnx.stdout.splitlines()[1:] == from_model.stdout.splitlines()[1:]
    # the file's class names (digit0...) are not the dataset's (0...): the same warning
    assert "was trained on the classes 'digit0'" in from_onnx.stderr


def test_predict_without_onnx_runtime_says_what_to_install(capsys, exported, monkeypatch):
    image = exported.parent / "blank.png"
    Image.new("L", (32, 32)).save(image)
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    result = run_here(capsys, "predict", exported, image)
    assert result.returncode == 1
    assert result.stderr == (
        "cnnkit: onnxruntime is not installed; ONNX export and inference need it: "
        "pip install cnnkit[onnx]\n"
    )


def test_export_refuses_a_missing_model_and_a_missing_folder(capsys, trained, tmp_path):
    missing = run_here(capsys, "export", tmp_path / "none.cnnkit", tmp_path / "m.onnx")
    assert missing.returncode == 1 and "no model file at" in missing.stderr
    nowhere = tmp_path / "no" / "m.onnx"
    result = run_here(capsys, "export", trained, nowhere)
    assert result.returncode == 1
    assert result.stderr == (
        "cnnkit: export: the folder of filepath does not exist. Received: "
        f"filepath={str(nowhere)!r}; create {str(nowhere.parent)!r} first\n"
    )
