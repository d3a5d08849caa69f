"""Functional, nested and subclassed models: get_config/from_config, to_json, clone_model,
save/load_model with exactly equal outputs, custom classes only when allowed."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from keras_oracle import keras

import cnnkit
from cnnkit import layers
from cnnkit.saving import register_keras_serializable, register_serializable


def graph_model() -> cnnkit.Model:
    """Two inputs (a dict), a shared Dense, a nested Sequential and a nested functional model,
    two outputs (a dict)."""
    cnnkit.utils.set_random_seed(0)
    image = cnnkit.Input(shape=(8, 8, 1), name="image")
    extra = cnnkit.Input(shape=(4,), name="extra")
    features = cnnkit.Sequential(
        [layers.Conv2D(3, 3, padding="same", input_shape=(8, 8, 1)), layers.BatchNormalization(),
         layers.GlobalAveragePooling2D()],
        name="features",
    )  # fmt: skip
    inner_in = cnnkit.Input(shape=(4,), name="inner_in")
    head = cnnkit.Model(inner_in, layers.Dense(4, activation="relu")(inner_in), name="head")
    shared = layers.Dense(4, name="shared")
    a = shared(layers.Dense(4, name="project")(features(image)))
    b = shared(head(extra))
    merged = layers.Concatenate(name="merged")([a, b])
    outputs = {
        "label": layers.Dense(3, activation="softmax", name="label")(merged),
        "score": layers.Add(name="score")([a, b]),
    }
    return cnnkit.Model({"image": image, "extra": extra}, outputs, name="graph")


def inputs() -> dict[str, torch.Tensor]:
    rng = np.random.default_rng(0)
    return {
        "image": torch.tensor(rng.random((5, 8, 8, 1), dtype=np.float32)),
        "extra": torch.tensor(rng.random((5, 4), dtype=np.float32)),
    }


def assert_same_outputs(a, b):
    a.eval(), b.eval()
    with torch.no_grad():
        first, second = a(inputs()), b(inputs())
    assert first.keys() == second.keys()
    for key in first:
        assert torch.equal(first[key], second[key]), key


def test_a_graph_model_round_trips_through_a_file(tmp_path):
    model = graph_model()
    model.compile(optimizer="adam", loss="mse")
    model.save(tmp_path / "m.keras")
    loaded = cnnkit.models.load_model(tmp_path / "m.keras")
    assert [la.name for la in loaded.layers] == [la.name for la in model.layers]
    assert isinstance(loaded.get_layer("features"), cnnkit.Sequential)
    assert type(loaded.get_layer("head")) is cnnkit.Model
    assert loaded.get_config() == model.get_config()
    assert_same_outputs(model, loaded)
    assert loaded.count_params() == model.count_params()


def test_config_has_keras_shape():
    config = graph_model().get_config()
    assert set(config) == {"name", "trainable", "layers", "input_layers", "output_layers"}
    assert config["input_layers"] == {"image": ["image", 0, 0], "extra": ["extra", 0, 0]}
    assert config["output_layers"] == {"label": ["label", 0, 0], "score": ["score", 0, 0]}
    by_name = {entry["name"]: entry for entry in config["layers"]}
    assert (
        by_name["image"]["inbound_nodes"] == [] and by_name["image"]["class_name"] == "InputLayer"
    )
    assert by_name["features"]["class_name"] == "Sequential"
    assert by_name["head"]["class_name"] == "Functional"
    shared_calls = [
        node["args"][0]["config"]["keras_history"] for node in by_name["shared"]["inbound_nodes"]
    ]
    assert shared_calls == [["project", 0, 0], ["head", 0, 0]]
    merged = by_name["merged"]["inbound_nodes"][0]["args"][0]
    assert [t["config"]["keras_history"] for t in merged] == [["shared", 0, 0], ["shared", 1, 0]]
    assert merged[0]["class_name"] == "__keras_tensor__"
    assert merged[0]["config"]["shape"] == [None, 4]
    json.dumps(config)  # JSON-able


def test_references_match_keras_for_the_same_graph():
    """Layer order, each call's keras_history and the ends agree with Keras 3's config."""

    def build(lib):
        x = lib.Input(shape=(6,), name="x")
        y = lib.Input(shape=(6,), name="y")
        shared = lib.layers.Dense(5, name="shared")
        a, b = shared(x), shared(y)
        top = lib.layers.Dense(2, name="top")(lib.layers.Add(name="add")([a, b]))
        return lib.Model([x, y], [top, a], name="g").get_config()

    ours, theirs = build(cnnkit), build(keras)

    def summary(config):
        return [
            (e["name"], [_histories(node["args"][0]) for node in e["inbound_nodes"]])
            for e in config["layers"]
        ]

    assert summary(ours) == summary(theirs)
    assert ours["input_layers"] == theirs["input_layers"]
    assert ours["output_layers"] == theirs["output_layers"]


def _histories(arg):
    items = arg if isinstance(arg, list) else [arg]
    return [list(item["config"]["keras_history"]) for item in items]


def test_from_config_to_json_and_model_from_json_rebuild_the_architecture():
    model = graph_model()
    for rebuilt in (
        cnnkit.Model.from_config(model.get_config()),
        cnnkit.models.model_from_config(model.get_config()),
        cnnkit.models.model_from_json(model.to_json()),
    ):
        assert rebuilt.get_config() == model.get_config()
        rebuilt.load_state_dict(model.state_dict())
        assert_same_outputs(model, rebuilt)
    wrapped = json.loads(model.to_json())
    assert wrapped["class_name"] == "Functional" and wrapped["config"] == model.get_config()


def test_sequential_from_config_and_json():
    model = cnnkit.zoo.get("lenet5")
    assert cnnkit.Sequential.from_config(model.get_config()).get_config() == model.get_config()
    rebuilt = cnnkit.models.model_from_json(model.to_json())
    assert isinstance(rebuilt, cnnkit.Sequential) and rebuilt.get_config() == model.get_config()


@pytest.mark.parametrize("make", [graph_model, lambda: cnnkit.zoo.get("lenet5")])
def test_clone_model_has_the_architecture_and_fresh_weights(make):
    model = make()
    clone = cnnkit.models.clone_model(model)
    assert type(clone) is type(model) and clone.get_config() == model.get_config()
    assert all(c is not m for c, m in zip(clone.layers, model.layers))
    kernels = [k for k in model.state_dict() if k.endswith("weight") and "normalization" not in k]
    assert kernels and all(
        not torch.equal(clone.state_dict()[k], model.state_dict()[k]) for k in kernels
    )
    clone.load_state_dict(model.state_dict())
    x = inputs() if isinstance(model.input_shape, list) else torch.rand(2, *model.input_shape[1:])
    model.eval(), clone.eval()
    out_a, out_b = model(x), clone(x)
    for a, b in zip(out_a.values() if isinstance(out_a, dict) else [out_a],
                    out_b.values() if isinstance(out_b, dict) else [out_b]):  # fmt: skip
        assert torch.equal(a, b)


def test_clone_model_refuses_what_is_not_a_model():
    with pytest.raises(TypeError, match="clone_model expects a cnnkit model. Received: Dense"):
        cnnkit.models.clone_model(layers.Dense(2))


@pytest.mark.parametrize(
    "layer",
    [
        layers.Conv2D(4, 3, strides=2, padding="same", kernel_regularizer="l2", kernel_constraint="max_norm"),
        layers.Dense(3, activation="relu", kernel_initializer="he_normal", use_bias=False),
        layers.BatchNormalization(momentum=0.9, epsilon=0.01),
        layers.Concatenate(axis=1),
        layers.Add(),
        layers.Dropout(0.3),
    ],
)  # fmt: skip
def test_layer_get_config_from_config_round_trip(layer):
    rebuilt = type(layer).from_config(layer.get_config())
    assert type(rebuilt) is type(layer) and rebuilt.get_config() == layer.get_config()


# ---------------------------------------------------------------------- the user's own classes
class Scale(layers.Layer):
    """A user's layer: a learned scale per feature."""

    def __init__(self, factor: float = 2.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def build(self, input_shape):
        self.gain = self.add_weight(shape=(input_shape[-1],), initializer="ones")

    def call(self, x):
        return self.factor * self.gain * x

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


def scaled_model(cls=Scale) -> cnnkit.Model:
    cnnkit.utils.set_random_seed(1)
    x = cnnkit.Input(shape=(4,))
    return cnnkit.Model(x, layers.Dense(2)(cls(factor=3.0, name="scale")(x)))


def test_a_custom_layer_loads_only_when_passed(tmp_path):
    model = scaled_model()
    with torch.no_grad():
        model.get_layer("scale").gain.copy_(torch.tensor([1.0, 2.0, 3.0, 4.0]))
    model.save(tmp_path / "m.keras")
    with pytest.raises(ValueError, match=r"unknown layer class 'Scale'.*custom_objects=") as info:
        cnnkit.models.load_model(tmp_path / "m.keras")
    assert str(tmp_path / "m.keras") in str(info.value)
    loaded = cnnkit.models.load_model(tmp_path / "m.keras", custom_objects={"Scale": Scale})
    assert type(loaded.get_layer("scale")) is Scale and loaded.get_layer("scale").factor == 3.0
    x = torch.rand(3, 4)
    assert torch.equal(loaded(x), model(x))
    with pytest.raises(ValueError, match=r"unknown layer class 'Scale'.*register_serializable"):
        cnnkit.models.model_from_config(model.get_config())


def test_a_registered_layer_loads_by_its_registered_name(tmp_path):
    @register_serializable(package="Tests")
    class Shift(layers.Layer):
        def __init__(self, factor: float = 1.0, **kwargs):
            super().__init__(**kwargs)
            self.factor = factor

        def call(self, x):
            return x + self.factor

        def get_config(self):
            return {**super().get_config(), "factor": self.factor}

    assert register_keras_serializable is register_serializable
    model = scaled_model(Shift)
    entry = next(e for e in model.get_config()["layers"] if e["name"] == "scale")
    assert entry["class_name"] == "Shift" and entry["registered_name"] == "Tests>Shift"
    model.save(tmp_path / "m.keras")
    loaded = cnnkit.models.load_model(tmp_path / "m.keras")
    x = torch.rand(3, 4)
    assert type(loaded.get_layer("scale")) is Shift and torch.equal(loaded(x), model(x))


def test_register_serializable_checks_its_arguments():
    with pytest.raises(ValueError, match="package must be a non-empty string without '>'"):
        register_serializable(package="a>b")
    with pytest.raises(TypeError, match="custom_objects must be a dict of class names"):
        cnnkit.models.model_from_config({"layers": []}, custom_objects=["Scale"])


# ---------------------------------------------------------------------- subclassed models
class TwoDense(cnnkit.Model):
    def __init__(self, units: int = 3, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.hidden = layers.Dense(8, activation="relu")
        self.out = layers.Dense(units)

    def call(self, x):
        return self.out(self.hidden(x))


def test_a_subclassed_model_saves_weights_but_not_its_architecture(tmp_path):
    cnnkit.utils.set_random_seed(2)
    model = TwoDense()
    model.build((None, 5))
    with pytest.raises(NotImplementedError, match=r"implement|get_config\(\).*save_weights"):
        model.save(tmp_path / "m.keras")
    assert not (tmp_path / "m.keras").exists()
    model.save_weights(tmp_path / "w.weights.h5")
    fresh = TwoDense()
    fresh.build((None, 5))
    fresh.load_weights(tmp_path / "w.weights.h5")
    x = torch.rand(4, 5)
    assert torch.equal(fresh(x), model(x))
    unbuilt = TwoDense()
    with pytest.raises(ValueError, match=r"is not built and .* holds no architecture"):
        unbuilt.load_weights(tmp_path / "w.weights.h5")


def test_a_subclassed_model_with_get_config_round_trips(tmp_path):
    @register_serializable(package="Tests")
    class Configured(TwoDense):
        def get_config(self):
            return {"units": self.units, "name": self.name}

    cnnkit.utils.set_random_seed(3)
    model = Configured(units=2, name="configured")
    model.build((None, 5))
    model.save(tmp_path / "m.keras")
    loaded = cnnkit.models.load_model(tmp_path / "m.keras")
    x = torch.rand(4, 5)
    assert type(loaded) is Configured and loaded.units == 2 and torch.equal(loaded(x), model(x))
