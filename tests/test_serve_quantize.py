"""``cnnkit.serve.quantize_int8``: int8 Dense layers that keep the float32 model's answers."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import cnnkit
from cnnkit.serve import quantize_int8


@pytest.fixture(scope="module")
def trained():
    """small_cnn trained for a few epochs on the bundled digits (seconds), and its images."""
    cnnkit.utils.set_random_seed(0)
    (x_train, y_train), (x_test, _) = cnnkit.datasets.digits.load_data()
    x_train = x_train[..., None].astype(np.float32) / 255
    x_test = x_test[..., None].astype(np.float32) / 255
    model = cnnkit.zoo.get("small_cnn", input_shape=(8, 8, 1), width=8, units=32)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(x_train, y_train.astype(np.int64), batch_size=64, epochs=4, verbose=0)
    return model.eval(), x_train, x_test


def test_int8_keeps_the_float32_top_class(trained):
    model, x_train, x_test = trained
    before = model.predict(x_test, verbose=0)
    int8 = quantize_int8(model, x_train[:256])
    want = model.predict(x_test, verbose=0)
    got = int8.predict(x_test, verbose=0)
    agreement = np.mean(np.argmax(got, 1) == np.argmax(want, 1))
    assert agreement >= 0.95
    assert int8.int8_agreement >= 0.95
    assert not np.array_equal(got, want)  # the int8 kernels did run
    np.testing.assert_allclose(got, want, atol=0.05)
    np.testing.assert_array_equal(want, before)  # the float32 model is untouched
    dense = [layer for layer in int8.modules() if isinstance(layer, cnnkit.layers.Dense)]
    assert [layer.int8_linear.weight().dtype for layer in dense] == [torch.qint8] * 2


@pytest.mark.parametrize(
    ("images", "message"),
    [
        (None, r"quantize_int8 needs calibration_images: .* shape \(n, 8, 8, 1\)"),
        (np.zeros((0, 8, 8, 1), np.float32), r"shape \(n, 8, 8, 1\) with n >= 1.*\(0, 8, 8, 1\)"),
        (np.zeros((4, 8, 8), np.float32), r"Received: shape \(4, 8, 8\)"),
        (np.zeros((4, 8, 8, 1), np.uint8), r"must be finite floats.*uint8"),
        (np.full((4, 8, 8, 1), np.nan, np.float32), "must be finite floats"),
    ],
)
def test_calibration_images_are_required_and_checked(trained, images, message):
    with pytest.raises(ValueError, match=message):
        quantize_int8(trained[0], images)


def test_a_quantized_model_that_changes_answers_is_refused(trained, monkeypatch):
    import cnnkit.serve._quantize as quantize

    monkeypatch.setattr(quantize, "_top1_agreement", lambda *args: 0.9)
    with pytest.raises(
        ValueError, match=r"only 90.0% of the calibration images .* keep the float32"
    ):
        quantize_int8(trained[0], trained[1][:32])
    with pytest.raises(ValueError, match=r"min_agreement must be in \(0, 1\]"):
        quantize_int8(trained[0], trained[1][:32], min_agreement=0)


def test_a_model_without_dense_layers_is_refused():
    model = cnnkit.models.Sequential(
        [cnnkit.layers.Input((8, 8, 1)), cnnkit.layers.Conv2D(2, 3), cnnkit.layers.Flatten()]
    )
    with pytest.raises(ValueError, match="quantizes Dense layers and model .* has none"):
        quantize_int8(model, np.zeros((2, 8, 8, 1), np.float32))
