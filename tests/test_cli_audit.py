"""``cnnkit audit``: out-of-fold label issues as a CSV and a page, run as a user runs it (tiny
data: the embedded digits at 8x8 and a generated folder of stripes, 2 folds, 1 epoch)."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import numpy as np
import pytest
from cli_helpers import cnnkit, run_here, write_stripes
from report_helpers import decode_png, parse

from cnnkit import Sequential, layers
from cnnkit.datasets import digits
from cnnkit.interpret import label_issues_from_probabilities

FAST = ("--folds", "2", "--epochs", "1")


def rows_of(folder: Path) -> list[dict[str, str]]:
    with open(folder / "label_issues.csv", newline="") as stream:
        return list(csv.DictReader(stream))


def issue_rows(html: str) -> list[str]:
    """The table rows of the page's issues (header excluded)."""
    body = re.search(r"<tbody>(.*)</tbody>", html, re.S).group(1)
    return re.findall(r"<tr>(.*?)</tr>", body, re.S)


@pytest.fixture(scope="module")
def digits_audit(tmp_path_factory) -> Path:
    """The whole digits training set (1,442 images at 8x8), the default model."""
    out = tmp_path_factory.mktemp("audit") / "digits"
    result = cnnkit("audit", "--dataset", "digits", "--image-size", "8,8", *FAST, "--out", out)
    assert result.returncode == 0, result.stderr
    assert "likely label issues of 1,442 images" in result.stdout
    return out


def test_csv_is_confident_learning_on_the_saved_out_of_fold_probabilities(digits_audit):
    probabilities = np.load(digits_audit / "out_of_fold_probabilities.npy", allow_pickle=False)
    (_, y_train), _ = digits.load_data()
    assert probabilities.shape == (len(y_train), 10)
    expected = label_issues_from_probabilities(probabilities, y_train)
    rows = rows_of(digits_audit)
    assert len(rows) == len(expected) > 0
    assert [int(row["index"]) for row in rows] == expected.indices.tolist()
    assert [int(row["given_label"]) for row in rows] == y_train[expected.indices].tolist()
    assert [int(row["suggested_label"]) for row in rows] == expected.suggested_labels.tolist()
    assert [row["given"] for row in rows] == [digits.CLASS_NAMES[y] for y in expected.given_labels]
    scores = np.array([float(row["score"]) for row in rows])
    np.testing.assert_allclose(scores, expected.scores, rtol=1e-5, atol=1e-7)
    assert np.all(np.diff(scores) >= 0)  # most suspicious first
    assert all(row["file"] == "" for row in rows)  # built-in data has no files


def test_page_shows_each_issue_with_its_image_labels_and_latent_neighbours(digits_audit):
    rows = rows_of(digits_audit)
    parser, text = parse(digits_audit / "audit.html")
    assert "script" not in parser.tags and "nearest in latent space" in text
    shown = issue_rows(text)
    assert len(shown) == min(100, len(rows))  # --show's default
    for row, cells in zip(rows, shown):
        images = re.findall(r'src="(data:image/png;base64,[^"]+)"', cells)
        assert len(images) == 1 + 3  # the image and its three nearest neighbours
        assert decode_png(images[0]).width >= 64  # 8x8 digits enlarged to be seen
        tds = re.findall(r"<td>(.*?)</td>", cells, re.S)
        assert tds[2] == row["index"] and tds[3] == row["given"] and tds[4] == row["suggested"]
        assert f"(#{row['index']})" not in tds[7]  # an image is not its own neighbour
    assert "The first 100 are shown; the CSV lists all." in text or len(rows) <= 100


def test_a_saved_model_without_spatial_layers_trains_fresh_per_fold(tmp_path):
    model = Sequential(
        [
            layers.Input((8, 8, 1)),
            layers.Flatten(),
            layers.Dense(12, activation="relu"),
            layers.Dense(10, activation="softmax"),
        ]
    )
    model.save(tmp_path / "mlp.cnnkit")
    out = tmp_path / "out"
    result = cnnkit(
        "audit", "--dataset", "digits", "--model", tmp_path / "mlp.cnnkit", *FAST,
        "--limit", "300", "--out", out,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "auditing 300 images of digits" in result.stdout
    (_, y_train), _ = digits.load_data()
    rows = rows_of(out)
    assert rows and all(int(r["given_label"]) == y_train[int(r["index"])] for r in rows)
    assert len({r["index"] for r in rows}) == len(rows)
    assert np.load(out / "out_of_fold_probabilities.npy").shape == (300, 10)
    html = (out / "audit.html").read_text()
    assert "nearest in latent space" in html and "the architecture of" in html


def test_a_folder_audit_lists_the_files(tmp_path):
    (tmp_path / "stripes").mkdir()
    stripes = write_stripes(tmp_path / "stripes")
    wrong = stripes / "vertical" / "0.png"
    wrong.rename(stripes / "horizontal" / "from_vertical.png")  # a mislabelled file
    out = tmp_path / "audit"
    result = cnnkit("audit", "--dataset", stripes, *FAST, "--epochs", "5", "--out", out)
    assert result.returncode == 0, result.stderr
    probabilities = np.load(out / "out_of_fold_probabilities.npy")
    assert probabilities.shape == (30, 2)
    rows = rows_of(out)
    assert Path(rows[0]["file"]).name == "from_vertical.png"  # the planted mistake comes first
    assert rows[0]["given"] == "horizontal" and rows[0]["suggested"] == "vertical"
    for row in rows:
        path = Path(row["file"])
        assert path.is_file() and path.parent.name == row["given"]
        assert row["file"] in (out / "audit.html").read_text()


def test_bad_flags_are_errors_naming_the_flag(capsys, tmp_path):
    one_fold = run_here(capsys, "audit", "--dataset", "digits", "--folds", "1")
    assert one_fold.returncode == 2
    assert "argument --folds: expected an integer >= 2" in one_fold.stderr
    no_dataset = run_here(capsys, "audit")
    assert no_dataset.returncode == 2 and "--dataset" in no_dataset.stderr
    missing = run_here(capsys, "audit", "--dataset", "digits", "--model", tmp_path / "no.cnnkit")
    assert missing.returncode == 1 and "Traceback" not in missing.stderr
    assert f"cnnkit: --model {tmp_path / 'no.cnnkit'}: no model file at" in missing.stderr
    junk = tmp_path / "junk.cnnkit"
    junk.write_text("not a model")
    broken = run_here(capsys, "audit", "--dataset", "digits", "--model", junk, "--out", tmp_path)
    assert broken.returncode == 1 and f"cnnkit: --model {junk}: " in broken.stderr


def test_help_says_what_model_trains_and_what_is_written(capsys):
    result = run_here(capsys, "audit", "--help")
    assert result.returncode == 0
    text = " ".join(result.stdout.split())
    assert "fresh weights (clone_model" in text and "small_cnn" in text
    assert "label_issues.csv" in text and "audit.html" in text
