"""cnnkit._registry: every named family resolves, saves and rejects names through one Registry."""

from __future__ import annotations

import ast
import copy
import json
import re
from pathlib import Path

import pytest
import torch

import cnnkit
from cnnkit import (
    activations,
    constraints,
    initializers,
    losses,
    metrics,
    optimizers,
    regularizers,
    zoo,
)
from cnnkit._registry import Registry
from cnnkit.optimizers import schedules

FAMILIES = [activations, constraints, initializers, losses, metrics, optimizers, regularizers, zoo]
SAVED_BY_NAME = [f for f in FAMILIES if f is not zoo]  # a zoo model is saved with model.save
PREFIX = {losses: "compile", metrics: "compile", optimizers: "compile"}  # where users type them
SOURCE = Path(cnnkit.__file__).parent
# Families whose entries need constructor arguments (no get(name)): their module by file.
BUILT_FROM_ARGUMENTS = {"_lr_schedules": schedules}


def family_id(module) -> str:
    return module.__name__.rsplit(".", 1)[-1]


def test_every_module_with_get_serialize_or_deserialize_is_a_registered_family():
    named = set()
    for path in SOURCE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        functions = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
        if functions & {"get", "serialize", "deserialize"}:
            name = path.relative_to(SOURCE).with_suffix("").as_posix().replace("/", ".")
            named.add(name.removesuffix(".__init__"))  # a package's get lives in its __init__
    assert named == {family_id(f) for f in FAMILIES} | set(BUILT_FROM_ARGUMENTS)
    for family in BUILT_FROM_ARGUMENTS.values():
        assert isinstance(family.REGISTRY, Registry)
    for family in FAMILIES:
        assert isinstance(family.REGISTRY, Registry)
        assert family.REGISTRY.family == family_id(family)


def make(**arguments):
    """A constructor that shows what it was called with."""
    return ("made", arguments)


@pytest.mark.parametrize("family", FAMILIES, ids=family_id)
def test_each_get_reads_its_module_registry(monkeypatch, family):
    original = family.REGISTRY
    table = copy.deepcopy(original)
    table.register("brand_new")(make)
    monkeypatch.setattr(family, "REGISTRY", table)
    expected = {
        activations: make,  # activations are the functions themselves
        metrics: ("made", {"name": "BRAND_NEW"}),  # a metric is named as the user typed it
    }.get(family, ("made", {}))
    assert family.get("BRAND_NEW") == expected
    assert "brand_new" not in original  # the copy took the entry, the family's table did not


def round_trip_cases():
    for family in SAVED_BY_NAME:
        for name in family.REGISTRY.names():
            yield pytest.param(family, name, id=f"{family_id(family)}-{name}")


@pytest.mark.parametrize(("family", "name"), round_trip_cases())
def test_every_registered_name_round_trips_through_json(family, name):
    original = family.get(name)
    saved = family.serialize(original)
    restored = family.deserialize(json.loads(json.dumps(saved)))
    assert family.serialize(restored) == saved
    if isinstance(original, str):  # 'accuracy' is resolved at the first batch
        assert restored == original
    elif family is activations:
        assert restored is original
    elif family is regularizers:  # every L1/L2 mix is saved as L1L2
        weights = torch.linspace(-1, 1, 7)
        torch.testing.assert_close(restored(weights), original(weights))
    else:
        assert type(restored) is type(original)


@pytest.mark.parametrize("name", zoo.names())
def test_every_zoo_model_is_named_after_its_entry(name):
    assert zoo.get(name).name == name


@pytest.mark.parametrize("family", FAMILIES, ids=family_id)
def test_unknown_names_read_the_same_in_every_family(family):
    table = family.REGISTRY
    prefix = PREFIX.get(family, f"{family_id(family)}.get")
    available = re.escape(", ".join(table.names()))
    with pytest.raises(ValueError) as error:
        family.get("xyzzy")
    assert re.fullmatch(
        rf"{re.escape(prefix)}: unknown {table.kind} 'xyzzy'\. Available: {available}\.",
        str(error.value),
    )
    first = sorted(table.names())[-1]
    with pytest.raises(ValueError) as error:
        family.get(first + "q")
    assert str(error.value).endswith(f". Did you mean {first!r}?")


@pytest.mark.parametrize("family", SAVED_BY_NAME, ids=family_id)
def test_saved_configs_and_unsaveable_objects_read_the_same_in_every_family(family):
    table = family.REGISTRY
    available = re.escape(", ".join(table.names()))
    with pytest.raises(ValueError) as error:
        family.deserialize({"class_name": "xyzzy", "config": {}})
    assert re.fullmatch(
        rf"{family_id(family)}\.deserialize: unknown {table.kind} 'xyzzy'\. Available: {available}\.",
        str(error.value),
    )
    with pytest.raises(ValueError) as error:
        family.serialize(object())
    assert re.fullmatch(
        rf"{family_id(family)}\.serialize: <object object at 0x[0-9a-f]+> is not a built-in "
        rf"{table.kind}, so it cannot be saved by name\. Available: {available}\.",
        str(error.value),
    )


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda: activations.get("rleu", "Conv2D"),
            r"Conv2D: unknown activation 'rleu'\. .* Did you mean 'relu'\?",
        ),
        (
            lambda: constraints.get("maxnorm", "Dense", "kernel_constraint"),
            r"Dense: unknown kernel_constraint 'maxnorm'\. .* Did you mean 'max_norm'\?",
        ),
        (
            lambda: regularizers.get("l1l3"),
            r"regularizers\.get: unknown regularizer 'l1l3'\. Available: l1, l1_l2, L1L2, l2\. Did you mean 'L1L2'\?",
        ),
        (
            lambda: losses.get("mean_squared_eror"),
            r"compile: unknown loss .* Did you mean 'mean_squared_error'\?",
        ),
        (
            lambda: metrics.get("acuracy"),
            r"compile: unknown metric 'acuracy'\. Available: acc, accuracy, .* Did you mean 'accuracy'\?",
        ),
        (
            lambda: optimizers.get("adamm"),
            r"compile: unknown optimizer 'adamm'\. Available: adadelta, adagrad, adam, adamax, adamw, lion, nadam, rmsprop, sgd\. Did you mean 'adam'\?",
        ),
        (
            lambda: zoo.get("lenet"),
            r"zoo\.get: unknown model 'lenet'\. Available: lenet5, resnet, small_cnn\. Did you mean 'lenet5'\?",
        ),
    ],
)
def test_misspelled_names_name_the_owner_and_the_closest_entry(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_aliases_resolve_to_the_canonical_entry_whatever_the_case():
    assert activations.get("SWISH") is activations.silu
    assert activations.serialize(activations.get("swish")) == "silu"
    assert type(losses.get("MSE")) is losses.MeanSquaredError
    assert losses.serialize(losses.get("mae"))["class_name"] == "mean_absolute_error"
    assert metrics.get("mae").name == "mae"  # named as typed, as Keras names it
    assert metrics.serialize(metrics.get("mae")) == {
        "class_name": "mean_absolute_error",
        "config": {"name": "mae"},
    }
    assert metrics.get("Acc") == "Acc"  # which accuracy is decided at the first batch
    assert type(regularizers.get("l1l2")) is regularizers.L1L2
    assert regularizers.serialize(regularizers.L2(0.5)) == {
        "class_name": "L1L2",
        "config": {"l1": 0.0, "l2": 0.5},
    }


class Clip(constraints.Constraint):
    """Weights clipped to [low, high]: a user's new constraint."""

    def __init__(self, low: float = 0.0, high: float = 1.0):
        self.low, self.high = low, high

    def __call__(self, w):
        return w.clamp(self.low, self.high)


def test_registering_a_new_entry_makes_it_resolvable_and_saveable(monkeypatch):
    table = copy.deepcopy(constraints.REGISTRY)
    monkeypatch.setattr(constraints, "REGISTRY", table)
    assert table.register("clip", aliases=("clamp",))(Clip) is Clip
    assert {"clip", "clamp"} <= set(constraints.REGISTRY.names())
    assert isinstance(constraints.get("CLAMP"), Clip)
    saved = constraints.serialize(Clip(-1.0, 2.0))
    assert saved == {"class_name": "clip", "config": {"low": -1.0, "high": 2.0}}
    restored = constraints.deserialize(saved)
    torch.testing.assert_close(
        restored(torch.tensor([-3.0, 0.5, 3.0])), torch.tensor([-1.0, 0.5, 2.0])
    )
    layer = cnnkit.layers.Dense(2, kernel_constraint="clip")
    assert isinstance(layer.kernel_constraint, Clip)


def test_zoo_register_adds_a_model_and_refuses_a_taken_name(monkeypatch):
    monkeypatch.setattr(zoo, "REGISTRY", copy.deepcopy(zoo.REGISTRY))

    @zoo.register("tiny")
    def tiny(input_shape=(4,), num_classes=3):
        return cnnkit.Sequential([cnnkit.layers.Dense(num_classes, input_shape=input_shape)])

    assert "tiny" in zoo.names()
    assert zoo.get("tiny", num_classes=5).output_shape == (None, 5)
    with pytest.raises(
        ValueError, match=r"^zoo\.register: a model named 'lenet5' is already registered$"
    ):
        zoo.register("lenet5")(tiny)
    with pytest.raises(ValueError, match="'TINY' is already registered"):
        zoo.register("TINY")(tiny)  # names match whatever their case


def test_registry_refuses_bad_names_aliases_and_configs():
    table = Registry("shapes", "shape", {"square": make}, aliases={"box": "square"})
    with pytest.raises(
        TypeError,
        match=r"shapes\.register: a shape name must be a non-empty string\. Received: name=3",
    ):
        table.register(3)
    with pytest.raises(ValueError, match=r"shapes\.register: unknown shape 'circle'"):
        table.add_alias("round", "circle")
    with pytest.raises(ValueError, match="'BOX' is already registered"):
        table.add_alias("BOX", "square")
    with pytest.raises(TypeError, match=r"shapes\.deserialize: config must be a name or a dict"):
        table.deserialize(["square"])
    with pytest.raises(TypeError, match=r"config\['config'\] must be a dict"):
        table.deserialize({"class_name": "square", "config": [1]})
    with pytest.raises(
        TypeError, match=r"shapes\.deserialize: shape must be a name\. Received: shape=5"
    ):
        table.deserialize({"class_name": 5})
    with pytest.raises(
        TypeError, match=r"shapes\.get: shape must be a name\. Received: shape=2\.5"
    ):
        table.get(2.5)
    assert table.deserialize({"class_name": "BOX", "config": {"side": 2}}) == ("made", {"side": 2})
    with pytest.raises(
        ValueError, match=r"activations\.deserialize: activation 'relu' takes no config"
    ):
        activations.deserialize({"class_name": "relu", "config": {"alpha": 1}})


def test_a_huge_unknown_name_is_quoted_short():
    with pytest.raises(ValueError) as error:
        initializers.deserialize({"class_name": "x" * 1_000_000})
    assert len(str(error.value)) < 500
    assert "unknown initializer 'xxxx" in str(error.value)
