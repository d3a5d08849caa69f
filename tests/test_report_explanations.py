"""The report's Grad-CAM section: a few correct and a few misclassified test images, each
drawn with its own map, and a sentence instead for a model without feature maps."""

from __future__ import annotations

import re

import numpy as np
import pytest
from report_helpers import decode_png, digits_case, single_thread

from cnnkit import Sequential, explain, plots, report
from cnnkit.layers import Dense, Flatten
from cnnkit.report import _build, _sections_explain


@pytest.fixture(scope="module")
def digits_context():
    model, _, data = digits_case()
    with single_thread():
        context = _build._context(model, data, None, lambda x: x / 255, 40, 256, 0, 5, None)
        context.probabilities  # noqa: B018 - predicted once
    return model, context


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


def test_section_shows_correct_then_misclassified_images_with_their_grad_cam(digits_context, drawn):
    model, context = digits_context
    assert "explanations" in report.SECTION_IDS
    with single_thread():
        html = _sections_explain.explanations(context, per_kind=3)
    sources = re.findall(r'<img src="([^"]+)"', html)
    assert len(sources) == 2 and all(decode_png(s).width > 50 for s in sources)
    assert "Grad-CAM of 3 correctly classified test images" in html
    assert "Grad-CAM of 3 misclassified test images" in html
    right = context.predicted == context.y_test
    for (args, kwargs), correct in zip(drawn, (True, False)):
        images, maps = args
        indices = [
            int(np.flatnonzero((context.x_test == image).all(axis=(1, 2)))[0]) for image in images
        ]
        assert all(bool(right[i]) is correct for i in indices)
        assert set(indices) <= set(context.test_sample.tolist())
        np.testing.assert_array_equal(kwargs["true"], context.y_test[indices])
        np.testing.assert_array_equal(kwargs["probabilities"], context.probabilities[indices])
        expected = explain.grad_cam(model, context.inputs(context.x_test[indices]))
        np.testing.assert_allclose(maps, expected, rtol=1e-5, atol=1e-7)


def test_a_model_without_feature_maps_gets_a_sentence(digits_context):
    _, context = digits_context
    flat = Sequential([Flatten(input_shape=(8, 8, 1)), Dense(10, activation="softmax")])
    without = _build._context(flat, ((context.x_train, context.y_train),
                                     (context.x_test, context.y_test)),
                              None, lambda x: x / 255, 40, 256, 0, 5, None)  # fmt: skip
    html = _sections_explain.explanations(without)
    assert html == (
        "<p>The model has no layer with image-shaped outputs, so there is no Grad-CAM map to "
        "show.</p>"
    )
