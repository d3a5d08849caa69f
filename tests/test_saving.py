"""model.save / load_model / save_weights / load_weights: round trips, resume, safety."""

from __future__ import annotations

import json
import os
import pickle
import struct

import numpy as np
import pytest
import torch

import cnnkit
from cnnkit.layers import BatchNormalization, Conv2D, Dense, Flatten, MaxPooling2D


def trained_model(dropout: float = 0.0):
    cnnkit.utils.set_random_seed(0)
    x = np.random.default_rng(0).random((64, 16, 16, 1)).astype(np.float32)
    y = np.random.default_rng(1).integers(0, 3, 64)
    model = cnnkit.Sequential(
        [
            Conv2D(
                4,
                3,
                padding="same",
                kernel_regularizer="l2",
                kernel_constraint="max_norm",
                input_shape=(16, 16, 1),
            ),
            BatchNormalization(),
            MaxPooling2D(),
            Flatten(),
            Dense(3, activation="softmax", kernel_initializer="he_normal"),
        ],
        name="saved",
    )
    model.compile(
        optimizer=cnnkit.optimizers.Adam(learning_rate=0.01),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    model.fit(x, y, epochs=1, batch_size=16, verbose=0)
    return model, x, y


@pytest.mark.parametrize("extension", [".keras", ".h5", ".cnnkit", ""])
def test_round_trip_keeps_architecture_weights_and_compile(tmp_path, extension):
    model, x, _ = trained_model()
    path = tmp_path / f"model{extension}"
    model.save(path)
    loaded = cnnkit.models.load_model(path)
    assert loaded.name == "saved" and [type(la).__name__ for la in loaded.layers] == [
        type(la).__name__ for la in model.layers
    ]
    assert loaded.layers[0].kernel_regularizer.l2 == 0.01
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert (
        isinstance(loaded.optimizer, cnnkit.optimizers.Adam)
        and loaded.optimizer.learning_rate == 0.01
    )
    assert loaded.loss.name == "sparse_categorical_crossentropy"
    assert loaded.summary_text() == model.summary_text()


def test_resumed_training_equals_uninterrupted_training(tmp_path):
    model, x, y = trained_model()
    model.save(tmp_path / "mid.keras")
    resumed = cnnkit.models.load_model(tmp_path / "mid.keras")
    assert resumed.optimizer.iterations == model.optimizer.iterations == 4
    for m in (model, resumed):
        m.fit(x, y, epochs=1, batch_size=16, verbose=0, shuffle=False)
    for a, b in zip(model.get_weights(), resumed.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_save_and_load_weights(tmp_path):
    model, x, _ = trained_model()
    model.save_weights(tmp_path / "w.weights.h5")
    fresh = cnnkit.Sequential(
        [
            Conv2D(4, 3, padding="same", input_shape=(16, 16, 1)),
            BatchNormalization(),
            MaxPooling2D(),
            Flatten(),
            Dense(3, activation="softmax"),
        ]
    )
    fresh.load_weights(tmp_path / "w.weights.h5")
    np.testing.assert_array_equal(fresh.predict(x, verbose=0), model.predict(x, verbose=0))
    other = cnnkit.zoo.get("lenet5")
    with pytest.raises(ValueError, match="does not fit this model"):
        other.load_weights(tmp_path / "w.weights.h5")


def test_interrupted_save_leaves_the_previous_file_intact(tmp_path, monkeypatch):
    model, x, _ = trained_model()
    path = tmp_path / "model.keras"
    model.save(path)
    before = path.read_bytes()

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with torch.no_grad():
        model.layers[-1].weight.add_(1.0)
    with pytest.raises(OSError, match="disk full"):
        model.save(path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.keras"]  # no temporary left behind


def test_loading_never_unpickles(tmp_path, monkeypatch):
    model, _, _ = trained_model()
    model.save(tmp_path / "m.keras")

    def forbidden(*args, **kwargs):
        raise AssertionError("pickle was used")

    monkeypatch.setattr(pickle, "loads", forbidden)
    monkeypatch.setattr(pickle, "load", forbidden)
    monkeypatch.setattr(torch, "load", forbidden)
    cnnkit.models.load_model(tmp_path / "m.keras")


def _rewrite_metadata(path, change):
    """Edit the JSON header of a safetensors file in place (as an attacker could)."""
    data = path.read_bytes()
    size = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8 : 8 + size])
    change(header["__metadata__"])
    encoded = json.dumps(header).encode()
    encoded += b" " * (-len(encoded) % 8)
    path.write_bytes(struct.pack("<Q", len(encoded)) + encoded + data[8 + size :])


@pytest.mark.parametrize(
    "tamper, message",
    [
        (lambda p: p.write_bytes(p.read_bytes()[:100]), r"is not a readable cnnkit file"),
        (
            lambda p: p.write_bytes(pickle.dumps({"weights": [1, 2, 3]})),
            r"is not a readable cnnkit file",
        ),
        (
            lambda p: _rewrite_metadata(p, lambda m: m.update(config="{not json")),
            r"'config' section is missing or not valid JSON",
        ),
        (
            lambda p: _rewrite_metadata(
                p,
                lambda m: m.update(
                    config=json.dumps({"layers": [{"class_name": "os.system", "config": {}}]})
                ),
            ),
            r"unknown layer class 'os.system'; a cnnkit file may only hold cnnkit layers",
        ),
        (
            lambda p: _rewrite_metadata(p, lambda m: m.update(format="something-else")),
            r"not a cnnkit cnnkit.model file",
        ),
        (
            lambda p: _rewrite_metadata(
                p, lambda m: m.update(config=m["config"].replace('"filters": 4', '"filters": 5'))
            ),
            r"weight 'stack.conv2d.weight' has shape \(4, 1, 3, 3\), the model needs \(5, 1, 3, 3\)",
        ),
        (
            lambda p: _rewrite_metadata(
                p, lambda m: m.update(config=m["config"].replace('"filters": 4', '"filtres": 4'))
            ),
            r"invalid configuration for layer Conv2D: Conv2D: unexpected keyword argument 'filtres'",
        ),
    ],
)
def test_tampered_files_are_refused_clearly(tmp_path, tamper, message):
    model, _, _ = trained_model()
    path = tmp_path / "m.keras"
    model.save(path)
    tamper(path)
    with pytest.raises(ValueError, match=message):
        cnnkit.models.load_model(path)


def test_missing_file_and_unsaveable_model(tmp_path):
    with pytest.raises(FileNotFoundError, match="no model file at"):
        cnnkit.models.load_model(tmp_path / "nope.keras")
    model = cnnkit.Sequential([Dense(2, activation=lambda t: t * 2, input_shape=(3,))])
    with pytest.raises(ValueError, match="cannot be saved by name"):
        model.save(tmp_path / "custom.keras")
    assert not (tmp_path / "custom.keras").exists()


@pytest.mark.parametrize("name", cnnkit.zoo.names())
def test_every_zoo_model_round_trips(tmp_path, name):
    model = cnnkit.zoo.get(name)
    model.save(tmp_path / "m.keras")
    loaded = cnnkit.models.load_model(tmp_path / "m.keras")
    x = torch.rand(2, *model.input_shape[1:])
    model.eval(), loaded.eval()
    torch.testing.assert_close(loaded(x), model(x))
