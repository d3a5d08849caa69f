"""The report's "kNN baseline vs CNN" section carries the demo's comparison and says what it
means: all models' test accuracies, kNN's K and distance, and a verdict from the numbers."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from report_helpers import digits_case, single_thread

from cnnkit import report
from cnnkit.report import _build, _sections_results
from cnnkit.report._comparison import Row, verdict

ROOT = Path(__file__).resolve().parents[1]


def cells(html: str) -> list[list[str]]:
    """The first table's rows as lists of cell texts."""
    body = html[html.index("<tbody>") : html.index("</tbody>")]
    return [re.findall(r"<td[^>]*>(.*?)</td>", row) for row in body.split("<tr>")[1:]]


@pytest.fixture(scope="module")
def digits_context():
    model, _, data = digits_case()
    with single_thread():
        context = _build._context(model, data, None, lambda x: x / 255, 30, 256, 0, 5, None)
        context.probabilities  # noqa: B018 - predicted once, outside the timed checks
    return model, context


def test_the_comparison_lists_other_models_and_given_knn_on_all_test_images(digits_context):
    model, context = digits_context
    knn = {"kNN (L1, k=7): pixels, K chosen from 1, 3, 5, 7 by validation": 0.9746}
    html = _sections_results.comparison(context, knn, {"lenet5": 0.9803})
    rows = cells(html)
    accuracy = float(np.mean(context.predicted == context.y_test))
    assert rows[:3] == [
        ["lenet5", "60", "0.9803"],
        [f"{model.name} (this model)", "60", f"{accuracy:.4f}"],
        [next(iter(knn)), "60", "0.9746"],  # scored on the same 60 test images: no "-"
    ]


def test_the_comparison_says_what_a_tie_means():
    rows = [
        Row("lenet5", 355, 0.9803, "cnn"),
        Row("small_cnn (this model)", 355, 0.9831, "cnn", short="small_cnn"),
        Row("kNN (L1, k=7): L1 distance between pixels", 355, 0.9746, "pixel knn"),
        Row("kNN (L2, k=1): L2 distance between pixels", 355, 0.9859, "pixel knn"),
    ]
    text = verdict(rows)
    assert text.startswith(
        "On the same 355 test images the best CNN, small_cnn, classifies 98.3% correctly, the "
        "best kNN on pixels, kNN (L2, k=1), 98.6%."
    )
    assert "kNN on pixels is as good as the CNN" in text
    assert "8x8" in text and "on Fashion-MNIST or CIFAR-10" in text
    assert "pulls clearly ahead" in text and "pulls ahead:" not in text


def test_the_comparison_says_when_the_cnn_pulls_ahead_or_falls_behind():
    ahead = verdict([Row("cnn", 10_000, 0.93, "cnn"), Row("kNN", 10_000, 0.85, "pixel knn")])
    assert "The CNN pulls ahead: it makes 47% of kNN's mistakes." in ahead
    behind = verdict([Row("cnn", 100, 0.80, "cnn"), Row("kNN", 100, 0.85, "pixel knn")])
    assert "kNN on pixels beats the CNN here" in behind
    # kNN on the CNN's latent vectors is not the pixel baseline the lecture compares with
    assert verdict([Row("cnn", 10, 0.9, "cnn"), Row("kNN", 10, 0.9, "latent knn")]) == ""


def test_a_computed_baseline_is_compared_on_the_same_sample(digits_context):
    _, context = digits_context
    html = _sections_results.comparison(context, None)
    sample = len(context.test_sample)
    assert sample == 30
    assert '<td>CNN on the test images the kNN rows use</td><td class="num">30</td>' in html
    assert "On the same 30 test images the best CNN classifies" in html


def test_build_checks_models(tmp_path, digits_context):
    model, context = digits_context
    data = ((context.x_train, context.y_train), (context.x_test, context.y_test))
    with pytest.raises(TypeError, match=r"models must be None or a dict \{name: test accuracy\}"):
        report.build(tmp_path, model, None, data, models={"lenet5": "high"})
    assert not (tmp_path / "report.html").exists()


def test_demo_report_carries_the_demos_comparison(tmp_path):
    """The demo's own table (kNN with its chosen K and distance, LeNet-5, the small CNN)."""
    folder = tmp_path / "shapes"
    rng = np.random.default_rng(0)
    for label, (top, left) in enumerate([(4, 4), (4, 18), (18, 10)]):
        (folder / f"class{label}").mkdir(parents=True)
        for index in range(15):
            pixels = rng.integers(0, 40, size=(32, 32), dtype=np.uint8)
            pixels[top : top + 10, left : left + 10] = 220
            Image.fromarray(pixels).save(folder / f"class{label}" / f"{index}.png")
    out = tmp_path / "demo"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "cnnkit",
            "demo",
            "--dataset",
            folder,
            "--epochs",
            "1",
            "--out",
            out,
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    assert "lenet5: 1 epoch\n" in result.stdout and "1 epochs" not in result.stdout
    table = result.stdout[result.stdout.index("model  ") :].splitlines()[1:5]
    printed = {line.split("  ")[0].strip(): line.split()[-3] for line in table}
    page = (out / "report.html").read_text()
    comparison = page[page.index('<section id="comparison">') :]
    rows = {row[0]: row[1:] for row in cells(comparison)}
    tested = rows["lenet5"][0]
    assert rows["lenet5"] == [tested, printed["lenet5"]]
    assert rows["small_cnn (this model)"] == [tested, printed["small_cnn"]]
    knn_rows = [name for name in rows if name.startswith("kNN (")]
    assert len(knn_rows) == 2
    for name in knn_rows:
        terminal = name.split(":")[0]  # e.g. "kNN (L1, k=3)", as the terminal printed it
        assert re.fullmatch(r"kNN \(L[12], k=[1357]\)", terminal)
        assert "K chosen from 1, 3, 5, 7 on a validation split" in name
        assert rows[name] == [tested, printed[terminal]]
    assert "the best kNN on pixels" in comparison
