"""cnnkit.report.build: one self-contained, readable HTML file with every section."""

from __future__ import annotations

import io
import re

import numpy as np
import pytest
from report_helpers import decode_png, digits_case, parse, rgb_case, single_thread
from sklearn.neighbors import KNeighborsClassifier

from cnnkit import Sequential, report
from cnnkit.layers import Conv2D, GlobalAveragePooling2D
from cnnkit.report import _build, _knn


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    with single_thread():
        yield


@pytest.fixture(scope="module")
def digits_report(tmp_path_factory):
    model, history, data = digits_case()
    stream = io.StringIO()
    path = report.build(
        tmp_path_factory.mktemp("digits") / "out",
        model,
        history,
        data,
        class_names=[f"digit {i}" for i in range(10)],
        max_points=100,
        preprocess=lambda x: x / 255,
        n_queries=3,
        progress=stream,
    )
    return path, model, data, stream.getvalue()


def assert_self_contained(path):
    parser, text = parse(path)
    assert parser.sections == list(report.SECTION_IDS)
    assert "script" not in parser.tags
    assert not re.search(r"(src|href)=\"(https?:)?//", text)  # nothing fetched from elsewhere
    assert all(link.startswith(("#", "data:")) for link in parser.links)
    assert parser.images
    for source in parser.images:
        image = decode_png(source)
        assert image.format == "PNG" and image.width > 50 and image.height > 50
    return parser, text


def section(text: str, section_id: str) -> str:
    match = re.search(rf'<section id="{section_id}">(.*?)</section>', text, re.S)
    assert match, section_id
    return match.group(1)


def test_grayscale_report_has_every_section_with_embedded_figures(digits_report):
    path, model, data, _ = digits_report
    assert path.name == "report.html" and path.parent.name == "out"
    assert sorted(p.name for p in path.parent.iterdir()) == [
        "report.html"
    ]  # atomic: no temporaries
    parser, text = assert_self_contained(path)
    counts = {sid: section(text, sid).count("<img") for sid in report.SECTION_IDS}
    assert counts["dataset"] == 1 and counts["training"] == 1 and counts["evaluation"] == 2
    assert counts["misclassified"] == 1 and counts["activations"] == 1
    assert counts["filters"] == 2 and counts["embedding"] == 2
    assert counts["neighbors"] == 2 * 3  # pixel and latent rows for 3 queries
    assert counts["model"] == 0 and counts["comparison"] == 0
    assert "conv2d (Conv2D)" in section(text, "model")
    assert "val_accuracy" in section(text, "training")
    assert "digit 7" in section(text, "dataset")


def test_report_accuracy_is_the_models_test_accuracy(digits_report):
    path, model, data, _ = digits_report
    _, (x_test, y_test) = data
    predicted = model.predict(x_test[..., None] / 255, verbose=0).argmax(axis=1)
    accuracy = float(np.mean(predicted == y_test))
    _, text = parse(path)
    assert f"Test accuracy: {accuracy:.4f}" in section(text, "evaluation")
    assert (
        f'<td>CNN (this model)</td><td class="num">{len(y_test)}</td><td class="num">{accuracy:.4f}</td>'
        in section(text, "comparison")
    )


def test_report_knn_baseline_matches_scikit_learn(digits_report):
    path, _, data, _ = digits_report
    (x, y), (x_test, y_test) = data
    expected = (
        KNeighborsClassifier(5)
        .fit(x.reshape(len(x), -1), y)
        .score(x_test.reshape(len(x_test), -1), y_test)
    )
    _, text = parse(path)
    comparison = section(text, "comparison")
    row = re.search(
        r"kNN on pixels, L2, k=5 \(([^;]+); 300 training images\)</td><td class=\"num\">60</td><td class=\"num\">([0-9.]+)</td>",
        comparison,
    )
    assert row, comparison
    assert float(row.group(2)) == pytest.approx(expected, abs=5e-5)
    assert "kNN on CNN latent vectors, L2" in comparison
    assert "leave-one-out kNN accuracy" in comparison and "CNN latent vectors" in comparison


def test_report_prints_progress_of_the_heavy_parts(digits_report):
    *_, printed = digits_report
    assert "t-SNE of 60 pixel vectors and of their latent vectors" in printed
    assert "kNN baseline on pixels" in printed
    assert printed.strip().splitlines()[-1].endswith("report.html")


def test_rgb_report_with_100_classes(tmp_path):
    model, _, data = rgb_case(classes=100)
    path = report.build(
        tmp_path, model, None, data, max_points=60, n_queries=1, knn={"kNN from elsewhere": 0.123}
    )
    parser, text = assert_self_contained(path)
    dataset = section(text, "dataset")
    assert "RGB" in dataset and "<details>" in dataset  # the 100-row table starts folded
    assert "Too many classes to print each cell" in section(text, "evaluation")
    assert "No training history was given" in section(text, "training")
    comparison = section(text, "comparison")
    assert "kNN from elsewhere" in comparison and "0.1230" in comparison
    assert "kNN on pixels, L" not in comparison  # given results are not recomputed
    assert "CNN on the test images the kNN rows use" not in comparison
    # every confusion matrix image is large enough for 100 classes
    evaluation_images = re.findall(
        r'src="(data:image/png;base64,[^"]+)"', section(text, "evaluation")
    )
    assert all(decode_png(source).width >= 1000 for source in evaluation_images)


def test_knn_baseline_falls_back_to_scikit_learn_without_cnnkit_neighbors(monkeypatch):
    real_find_spec = _knn.importlib.util.find_spec
    monkeypatch.setattr(
        _knn.importlib.util,
        "find_spec",
        lambda name, *a: None if name == "cnnkit.neighbors" else real_find_spec(name, *a),
    )
    model, _, data = rgb_case(classes=10, per_class_train=6, per_class_test=3)
    context = _build._context(model, data, None, None, 30, 256, 0, 5, None)
    rows = _knn.baseline_rows(context, None)
    (x, y), (x_test, y_test) = data
    expected = (
        KNeighborsClassifier(5).fit(x.reshape(60, -1), y).score(x_test.reshape(30, -1), y_test)
    )
    assert rows[0].cells() == (
        "kNN on pixels, L2, k=5 (scikit-learn; 60 training images)",
        30,
        pytest.approx(expected),
    )
    assert [row.method.split(",")[0] for row in rows] == [
        "kNN on pixels",
        "kNN on CNN latent vectors",
    ]
    assert _knn.baseline_rows(context, False) == []
    given = _knn.baseline_rows(context, 0.5)
    assert [row.cells() for row in given] == [("kNN baseline (given)", 30, 0.5)]


def test_report_checks_its_arguments(tmp_path):
    model, history, data = rgb_case(classes=10, per_class_train=2, per_class_test=1)
    with pytest.raises(
        TypeError, match=r"report.build: data must be \(\(x_train, y_train\), \(x_test, y_test\)\)"
    ):
        report.build(tmp_path, model, history, data[0])
    with pytest.raises(ValueError, match="class_names has 3 names but the labels go up to 9"):
        report.build(tmp_path, model, history, data, class_names=["a", "b", "c"])
    with pytest.raises(TypeError, match="knn must be None"):
        report.build(tmp_path, model, history, data, knn="yes")
    with pytest.raises(TypeError, match="progress must be a text stream"):
        report.build(tmp_path, model, history, data, progress=print)
    with pytest.raises(ValueError, match="max_points must be an int >= 5"):
        report.build(tmp_path, model, history, data, max_points=2)
    with pytest.raises(TypeError, match="history must be the History returned by model.fit"):
        report.build(tmp_path, model, [0.1, 0.2], data)
    no_dense = Sequential([Conv2D(2, 3, input_shape=(8, 8, 3)), GlobalAveragePooling2D()])
    with pytest.raises(ValueError, match="needs a Dense classifier layer.*Layers: conv2d, global"):
        report.build(tmp_path, no_dense, None, data)
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValueError, match="is a file; give a folder"):
        report.build(tmp_path / "file", model, history, data)
    with pytest.raises(ValueError, match=r"report.build: x must be one image of shape \(8, 8, 3\)"):
        report.build(
            tmp_path,
            model,
            history,
            ((data[0][0][..., 0], data[0][1]), (data[1][0][..., 0], data[1][1])),
        )
    assert not (tmp_path / "report.html").exists()
