"""The report's "mistakes" section: largest test losses and most confused classes, checked
against the same numbers computed directly from the model's predictions."""

from __future__ import annotations

import re
from collections import Counter

import numpy as np
import pytest
from report_helpers import decode_png, digits_case, parse, single_thread
from scipy.special import softmax

from cnnkit import report
from cnnkit.report import _build, _sections_mistakes

NAMES = [f"digit {i}" for i in range(10)]


@pytest.fixture(scope="module")
def case():
    with single_thread():
        model, history, data = digits_case(n_train=200, n_test=60)
    return model, history, data


def context_of(model, data):
    return _build._context(model, data, NAMES, lambda x: x / 255, 50, 64, 0, 5, None)


def cells(row_html: str) -> list[str]:
    return re.findall(r"<td[^>]*>(.*?)</td>", row_html, re.S)


def test_top_losses_are_the_largest_cross_entropies_worst_first(case):
    model, _, data = case
    (_, _), (x_test, y_test) = data
    html = _sections_mistakes.mistakes(context_of(model, data))
    probabilities = model.predict(x_test[..., None] / 255, verbose=0)
    losses = -np.log(probabilities[np.arange(len(y_test)), y_test])
    expected = np.argsort(-losses, kind="stable")[: _sections_mistakes.TOP_LOSSES]
    tables = re.findall(r"<tbody>(.*?)</tbody>", html, re.S)
    rows = [cells(row) for row in re.findall(r"<tr>(.*?)</tr>", tables[0], re.S)]
    assert [int(row[1]) for row in rows] == expected.tolist()
    for row, index in zip(rows, expected):
        assert row[2] == NAMES[y_test[index]]
        assert row[3] == NAMES[probabilities[index].argmax()]
        assert float(row[6]) == pytest.approx(losses[index], abs=1e-3)
        image = decode_png(re.search(r'src="([^"]+)"', row[0]).group(1))
        assert image.width >= 64 and image.height >= 64  # 8x8 digits, enlarged


def test_most_confused_pairs_are_counted_from_the_predictions(case):
    model, _, data = case
    (_, _), (x_test, y_test) = data
    html = _sections_mistakes.mistakes(context_of(model, data))
    predicted = model.predict(x_test[..., None] / 255, verbose=0).argmax(axis=1)
    counts = Counter((int(t), int(p)) for t, p in zip(y_test, predicted) if t != p)
    expected = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    expected = [[NAMES[t], NAMES[p], str(n)] for (t, p), n in expected]
    tables = re.findall(r"<tbody>(.*?)</tbody>", html, re.S)
    if not expected:
        assert len(tables) == 1 and "No test image is misclassified." in html
        return
    rows = [cells(row) for row in re.findall(r"<tr>(.*?)</tr>", tables[1], re.S)]
    assert rows == expected[: _sections_mistakes.CONFUSED_PAIRS]


def test_logits_become_probabilities_and_probabilities_stay():
    logits = np.array([[2.0, -1.0, 0.5], [0.0, 3.0, -2.0]])
    np.testing.assert_allclose(_sections_mistakes.probabilities(logits), softmax(logits, axis=1))
    probabilities = softmax(logits, axis=1)
    np.testing.assert_allclose(_sections_mistakes.probabilities(probabilities), probabilities)


def test_the_report_has_the_section_after_the_misclassified_images(case, tmp_path):
    model, history, data = case
    with single_thread():
        path = report.build(
            tmp_path, model, history, data, NAMES, knn=False, max_points=30,
            preprocess=lambda x: x / 255, n_queries=1,
        )  # fmt: skip
    parser, text = parse(path)
    ids = list(report.SECTION_IDS)
    assert parser.sections == ids and ids.index("mistakes") == ids.index("misclassified") + 1
    section = re.search(r'<section id="mistakes">(.*?)</section>', text, re.S).group(1)
    assert section.count("<img") == _sections_mistakes.TOP_LOSSES
    assert "Most confused classes" in section
