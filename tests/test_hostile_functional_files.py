"""Crafted functional-model files get one clear ValueError naming the file and the field:
cycles, references to nothing, missing inputs, huge shapes, unknown classes, wrong types."""

from __future__ import annotations

import json
import shutil

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from model_file_tools import edit_section, raw_header, with_raw_header

import cnnkit
from cnnkit import layers


def functional_model() -> cnnkit.Model:
    """input -> conv -> dense, with a shared Dense called twice and a nested Sequential."""
    cnnkit.utils.set_random_seed(0)
    x = cnnkit.Input(shape=(6, 6, 1), name="x")
    h = layers.Dense(4, name="project")(
        layers.Flatten(name="flat")(layers.Conv2D(2, 3, name="conv")(x))
    )
    shared = layers.Dense(4, name="shared")
    inner = cnnkit.Sequential([layers.Dense(4, input_shape=(4,))], name="inner")
    y = layers.Add(name="add")([shared(h), shared(inner(shared(h)))])
    return cnnkit.Model(x, layers.Dense(2, name="out")(y), name="graph")


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    path = tmp_path_factory.mktemp("saved") / "g.keras"
    functional_model().save(path)
    return path


@pytest.fixture
def path(saved, tmp_path):
    copy = tmp_path / "g.keras"
    shutil.copy(saved, copy)
    return copy


def entry(config, name):
    return next(e for e in config["layers"] if e["name"] == name)


def history(config, name, call=0):
    return entry(config, name)["inbound_nodes"][call]["args"][0]["config"]["keras_history"]


def change(edit):
    def apply(config):
        edit(config)
        return config

    return apply


def refused(path, message, **kwargs):
    with pytest.raises(ValueError, match=message) as info:
        cnnkit.models.load_model(path, **kwargs)
    assert str(path) in str(info.value)


def test_the_model_loads_untouched(path):
    assert cnnkit.models.load_model(path).get_config() == functional_model().get_config()


def _deep(config):
    inner = {"class_name": "Dense", "config": {"units": 4}}
    for _ in range(8):
        inner = {"class_name": "Sequential", "config": {"name": "s", "layers": [inner]}}
    entry(config, "inner")["config"]["layers"] = [inner]


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda c: history(c, "conv").__setitem__(0, "out"),
         r"config.layers must be calls without cycles; found \"a cycle through layers \['add', 'conv'"),
        (lambda c: history(c, "out").__setitem__(0, "nowhere"),
         r"keras_history must be a reference to a layer of this model; found 'nowhere'"),
        (lambda c: history(c, "out").__setitem__(1, 5), r"keras_history must be a call of 'add' below 1; found \['add', 5, 0\]"),
        (lambda c: history(c, "out").__setitem__(2, 10**9), r"keras_history must be an output index below 64"),
        (lambda c: history(c, "out").__setitem__(1, "0"), r"keras_history must be \[layer name, call index, output index\]"),
        (lambda c: c.__setitem__("input_layers", []), r"config.input_layers must be a reference or a list or dict of 1 to 64"),
        (lambda c: c.__setitem__("input_layers", ["conv", 0, 0]),
         r"config.input_layers must be each of the InputLayers \['x'\] once; found \['conv'\]"),
        (lambda c: c.__setitem__("output_layers", {"a": ["ghost", 0, 0]}), r"config.output_layers.a must be a reference to a layer"),
        (lambda c: c["layers"].remove(entry(c, "x")), r"must be a reference to a layer of this model; found 'x'"),
        (lambda c: entry(c, "x").__setitem__("inbound_nodes", [{"args": []}]), r"inbound_nodes must be \[\] for an InputLayer"),
        (lambda c: entry(c, "out").__setitem__("inbound_nodes", []), r"inbound_nodes must be a list of 1 to 64 calls; found \[\]"),
        (lambda c: entry(c, "out").__setitem__("inbound_nodes", [{"args": [{}]}] * 65), r"inbound_nodes must be a list of 1 to 64 calls"),
        (lambda c: entry(c, "out").__setitem__("name", "conv"), r"name must be unique among the model's layers; found 'conv'"),
        (lambda c: entry(c, "out").__setitem__("name", 7), r"\.name must be a non-empty string; found 7"),
        (lambda c: entry(c, "out").__setitem__("class_name", "os.system"),
         r"class_name: unknown layer class 'os.system'; a cnnkit file may only hold cnnkit layers.*custom_objects"),
        (lambda c: entry(c, "out").__setitem__("registered_name", "Evil>Thing"), r"unknown layer class 'Dense'"),
        (lambda c: entry(c, "out").__setitem__("module", "os"), r"must be an object with fields among"),
        (lambda c: entry(c, "out")["config"].__setitem__("units", 10**9), r"config.units must be an int in \[1, 65536\]"),
        (lambda c: entry(c, "out")["config"].__setitem__("units", 60000),
         r"weight 'stack.out.weight' has shape \(2, 4\), the model needs \(60000, 4\)"),
        (lambda c: entry(c, "x")["config"].__setitem__("shape", [60000, 60000, 3]), r"must be a shape of at most 2147483648 elements"),
        (lambda c: entry(c, "inner")["config"]["layers"][0]["config"].__setitem__("units", "4"),
         r"config.layers\[\d\].config.layers\[0\].config.units must be an int in \[1, 65536\]; found '4'"),
        (lambda c: entry(c, "inner").__setitem__("class_name", "Functional"), r"config must be the config of a Functional model"),
        (_deep, r"must be models nested at most 6 deep"),
        (lambda c: entry(c, "out")["inbound_nodes"][0].__setitem__("args", "add"), r"args must be a list of one tensor"),
        (lambda c: entry(c, "out")["inbound_nodes"][0]["args"][0].__setitem__("class_name", "__import__"),
         r"class_name must be '__keras_tensor__'; found '__import__'"),
        (lambda c: entry(c, "out")["inbound_nodes"][0]["args"][0]["config"].__setitem__("shape", [None, 10**12]),
         r"config.shape must be a list of sizes"),
        (lambda c: entry(c, "out")["inbound_nodes"][0].__setitem__("kwargs", {"training": {"x": 1}}),
         r"kwargs.training must be true, false or null; found \{'x': 1\}"),
        (lambda c: entry(c, "out")["inbound_nodes"][0].__setitem__("kwargs", {"bogus": 1}),
         r"inbound_nodes\[0\].kwargs must be an object with fields among \['training'\]; found \['bogus'\]"),
        (lambda c: c.__setitem__("trainable", "yes"), r"config.trainable must be true or false; found 'yes'"),
        (lambda c: c.__setitem__("layers", {}), r"config.layers must be a list of 1 to 4096 layers"),
        (lambda c: c.__setitem__("extra", 1), r"config must be an object with fields among"),
    ],
)  # fmt: skip
def test_crafted_graph_configs_are_refused_clearly(path, edit, message):
    edit_section(path, "config", change(edit))
    refused(path, message)


def test_unsaved_tensor_index_beyond_a_layers_outputs_is_refused(path):
    edit_section(path, "config", change(lambda c: history(c, "out").__setitem__(2, 3)))
    refused(path, r"no tensor \['add', 0, 3\]: no such layer, call or output")


def test_a_class_in_custom_objects_is_used_only_by_its_name(path):
    """custom_objects adds names; it never turns a built-in name into an import."""
    edit_section(
        path, "config", change(lambda c: entry(c, "out").__setitem__("class_name", "Mine"))
    )
    refused(path, r"unknown layer class 'Mine'")

    class Mine(layers.Dense):
        pass

    model = cnnkit.models.load_model(path, custom_objects={"Mine": Mine})
    assert type(model.get_layer("out")) is Mine


SETTINGS = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
VALUES = st.recursive(
    st.none() | st.booleans() | st.sampled_from([0, -1, 1, 3, 64, 2**31, 10**30]) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3),
    max_leaves=6,
)  # fmt: skip


@SETTINGS
@given(data=st.data())
def test_mutated_graph_configs_load_or_are_refused(saved, tmp_path, data):
    header, body = raw_header(saved.read_bytes())
    config = json.loads(header["__metadata__"]["config"])
    target, path = config, []
    while isinstance(target, (dict, list)) and target and data.draw(st.integers(0, 6)):
        key = data.draw(
            st.sampled_from(sorted(target) if isinstance(target, dict) else range(len(target)))
        )
        path.append(key)
        target = target[key]
    new = data.draw(VALUES)
    if path:
        parent = config
        for key in path[:-1]:
            parent = parent[key]
        parent[path[-1]] = new
    else:
        config = new
    header["__metadata__"]["config"] = json.dumps(config)
    file = tmp_path / "m.keras"
    file.write_bytes(with_raw_header(header, body))
    try:
        cnnkit.models.load_model(file)
    except (ValueError, OSError):
        pass
