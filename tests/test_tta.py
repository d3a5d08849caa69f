"""Test-time augmentation: predict and evaluate on the exact mean of the views' outputs."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import cnnkit
from cnnkit.training._tta import translate


def classifier(seed=0):
    torch.manual_seed(seed)
    model = cnnkit.Sequential(
        [
            cnnkit.Input(shape=(7, 9, 2)),
            cnnkit.layers.Conv2D(3, 3, activation="relu"),
            cnnkit.layers.Flatten(),
            cnnkit.layers.Dense(4, activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def images(n=10, seed=2):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 7, 9, 2)).astype("float32"), rng.integers(0, 4, n)


def shifted(x, down, right):
    """numpy's own reflect padding, then the crop: the shifted view written independently."""
    pad = ((0, 0), (abs(down),) * 2, (abs(right),) * 2, (0, 0))
    padded = np.pad(x, pad, mode="reflect")
    h, w = x.shape[1:3]
    top, left = abs(down) - down, abs(right) - right
    return padded[:, top : top + h, left : left + w]


def test_flip_is_the_mean_of_the_image_and_its_mirror():
    model, (x, _) = classifier(), images()
    manual = np.stack([model.predict(x, verbose=0), model.predict(x[:, :, ::-1].copy(), verbose=0)])
    np.testing.assert_array_equal(model.predict(x, verbose=0, tta="flip"), manual.mean(axis=0))


def test_flip_translate_uses_six_documented_views():
    model, (x, _) = classifier(), images()
    views = [x, x[:, :, ::-1]] + [shifted(x, *s) for s in [(0, 2), (0, -2), (2, 0), (-2, 0)]]
    manual = np.stack([model.predict(np.ascontiguousarray(v), verbose=0) for v in views])
    ours = model.predict(x, verbose=0, tta="flip+translate")
    np.testing.assert_array_equal(ours, manual.mean(axis=0))
    assert np.allclose(ours.sum(axis=1), 1.0, atol=1e-6)


def test_translate_reflects_at_the_border():
    x = np.arange(5, dtype=np.float32).reshape(1, 1, 5, 1)
    moved = translate(torch.as_tensor(x), 0, 2).numpy().ravel()
    assert moved.tolist() == [2, 1, 0, 1, 2]
    moved = translate(torch.as_tensor(x), 0, -2).numpy().ravel()
    assert moved.tolist() == [2, 3, 4, 3, 2]


def test_a_list_of_callables_and_augmentation_layers():
    model, (x, _) = classifier(), images()
    brighter = lambda batch: batch + 0.5  # noqa: E731
    ours = model.predict(
        x, verbose=0, tta=[brighter, cnnkit.layers.RandomFlip("horizontal", seed=3)]
    )
    flip = cnnkit.layers.RandomFlip("horizontal", seed=3)
    flipped = flip(torch.as_tensor(x), training=True).numpy()
    assert not np.array_equal(flipped, x)  # the layer draws in training mode
    manual = np.stack([model.predict(v, verbose=0) for v in (x, x + 0.5, flipped)])
    np.testing.assert_array_equal(ours, manual.mean(axis=0))


def test_evaluate_scores_the_averaged_probabilities():
    model, (x, y) = classifier(), images(n=12)
    probabilities = model.predict(x, verbose=0, tta="flip")
    expected_loss = float(np.mean(-np.log(probabilities[np.arange(len(y)), y])))
    expected_accuracy = float(np.mean(probabilities.argmax(axis=1) == y))
    logs = model.evaluate(x, y, verbose=0, tta="flip", return_dict=True)
    assert logs["loss"] == pytest.approx(expected_loss, rel=1e-5)
    assert logs["accuracy"] == pytest.approx(expected_accuracy)
    assert model.evaluate(x, y, verbose=0, tta="flip") == pytest.approx(
        [logs["loss"], logs["accuracy"]]
    )


@pytest.mark.parametrize(
    ("tta", "error", "message"),
    [
        ("mirror", ValueError, "predict: tta must be 'flip', 'flip\\+translate' or a list"),
        ([], TypeError, "predict: tta must be 'flip', 'flip\\+translate' or a non-empty list"),
        (3, TypeError, "Received: tta=3"),
    ],
)
def test_bad_tta(tta, error, message):
    model, (x, _) = classifier(), images()
    with pytest.raises(error, match=message):
        model.predict(x, verbose=0, tta=tta)


def test_tta_needs_images():
    model = classifier()
    with pytest.raises(ValueError, match=r"tta needs images as an array .* shape \(3, 7\)"):
        model.predict(np.zeros((3, 7), "float32"), verbose=0, tta="flip")
