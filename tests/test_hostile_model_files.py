"""Crafted model files get one clear ValueError naming the file, the field and what was found:
never a raw exception, a silent conversion, or memory far beyond the file's size."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap

import pytest
import torch
from model_file_tools import edit_section, raw_header, rewrite, small_model, with_raw_header

import cnnkit
from cnnkit.layers import Dense, Flatten, Normalization

RAW = (TypeError, AttributeError, RecursionError, KeyError, IndexError, RuntimeError)


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    path = tmp_path_factory.mktemp("saved") / "m.keras"
    small_model().save(path)
    return path


@pytest.fixture
def path(saved, tmp_path):
    copy = tmp_path / "m.keras"
    shutil.copy(saved, copy)
    return copy


def in_layer(index, **changes):
    def change(config):
        config["layers"][index]["config"].update(changes)
        return config

    return change


def nested(depth):
    return lambda config: {**config, "name": json.loads("[" * depth + "]" * depth)}


def refused(path, message, load=cnnkit.models.load_model):
    with pytest.raises(ValueError, match=message) as info:
        load(path)
    assert str(path) in str(info.value)
    return info.value


# ---------------------------------------------------------------------- the header schema
@pytest.mark.parametrize(
    "section, change, message",
    [
        ("config", lambda c: {**c, "layers": [{"class_name": ["Dense"], "config": {}}]},
         r"config.layers\[0\].class_name: unknown layer class \['Dense'\]; a cnnkit file may only"),
        ("config", lambda c: {**c, "layers": [["Dense", {}]]},
         r"config.layers\[0\] must be a JSON object; found \['Dense', \{\}\]"),
        ("config", lambda c: {**c, "layers": [{"class_name": "Dense", "config": [4]}]},
         r"config.layers\[0\].config must be a JSON object; found \[4\]"),
        ("config", lambda c: {**c, "extra": 1}, r"config must be an object with fields among"),
        ("config", nested(20), r"its 'config' section is nested more than 12 levels deep \(at config.name\[0\]"),
        ("config", in_layer(0, filters=10**9), r"config.layers\[0\].config.filters must be an int in \[1, 65536\]; found 1000000000"),
        ("config", in_layer(0, filters="4"), r"config.filters must be an int in \[1, 65536\]; found '4'"),
        ("config", in_layer(0, kernel_size=[3, 10**6]), r"kernel_size must be an int in \[1, 4096\]"),
        ("config", in_layer(3, units=10**12), r"config.layers\[3\].config.units must be an int in \[1, 65536\]"),
        ("config", in_layer(0, input_shape=[100000, 8, 1]), r"layers\[0\].config.input_shape must be an int in \[1, 65536\]; found 100000"),
        ("config", lambda c: {**c, "input_shape": [8, 8, 1, 1, 1]}, r"config.input_shape must be a list of 1 to 4 sizes"),
        ("config", in_layer(0, input_shape=[60000, 60000, 3]), r"input_shape must be a shape of at most 2147483648 elements"),
        ("config", in_layer(0, input_shape=["8", 8, 1]), r"input_shape must be an int in \[1, 65536\]; found '8'"),
        ("config", in_layer(0, kernel_initializer={"class_name": "glorot_uniform", "config": {"bogus": 1}}),
         r"invalid configuration for layer Conv2D: .*bogus"),
        ("config", in_layer(0, kernel_initializer={"class_name": "glorot_uniform", "config": {"seed": {"x": 1}}}),
         r"kernel_initializer.config.seed must be a number, string, list or null; found \{'x': 1\}"),
        ("config", in_layer(0, kernel_initializer="no_such_initializer"), r"unknown initializer 'no_such_initializer'"),
        ("config", in_layer(0, activation={"class_name": "os.system"}), r"activation must be a number, string, list or null"),
        ("config", in_layer(0, trainable="no"), r"config.layers\[0\].config.trainable must be true or false; found 'no'"),
        ("config", lambda c: {**c, "layers": [{"class_name": "RandomImageLayer", "config": {}}, *c["layers"]]},
         r"unknown layer class 'RandomImageLayer'"),
        ("compile", lambda c: ["adam"], r"compile must be a JSON object; found \['adam'\]"),
        ("compile", lambda c: {**c, "optimizer": "adam"}, r"compile.optimizer must be a JSON object; found 'adam'"),
        ("compile", lambda c: {**c, "optimizer": {"class_name": "adam", "config": {"beta_9": 1}}},
         r"invalid compile settings: .*beta_9"),
        ("compile", lambda c: {**c, "metrics": "accuracy"}, r"compile.metrics must be a list of metric names"),
        ("compile", lambda c: {**c, "jit_compile": "yes"}, r"compile.jit_compile must be true, false or 'auto'"),
        ("optimizer", lambda s: {**s, "param_groups": {"lr": 1}}, r"optimizer.param_groups must be a list of 1 to 64 groups"),
        ("optimizer", lambda s: {**s, "scalars": {"zero": {}}}, r"optimizer.scalars must be keyed by parameter indices; found 'zero'"),
    ],
)  # fmt: skip
def test_header_fields_are_checked_against_a_schema(path, section, change, message):
    edit_section(path, section, change)
    refused(path, message)


@pytest.mark.parametrize(
    "section, text, message",
    [
        ("config", "[" * 100_000 + "]" * 100_000, r"'config' section is nested more than 12 levels"),
        ("config", '{"layers": [], "name": NaN}', r"'config' section is missing or not valid JSON \(NaN is not"),
        ("config", '{"layers": [], "input_shape": [' + "9" * 5000 + "]}", r"'config' section is missing or not valid JSON"),
        ("compile", "{", r"'compile' section is missing or not valid JSON"),
        ("config", '{"layers": [], "name": 1e400}', r"config.name must be a finite number; found inf"),
        ("config", '{"layers": [], "name": Infinity}', r"not valid JSON \(Infinity is not a number a cnnkit file may hold"),
        ("format_version", "2", r"format_version must be '1'; found '2'"),
    ],
)  # fmt: skip
def test_raw_sections_are_parsed_safely(path, section, text, message):
    rewrite(path, lambda metadata, tensors: metadata.__setitem__(section, text))
    refused(path, message)


@pytest.mark.parametrize("loader", ["load_model", "load_weights", "restore_into"])
def test_every_way_in_applies_the_schema(path, loader):
    from cnnkit.saving import restore_into

    edit_section(path, "config", in_layer(0, filters=10**9))
    model = small_model()
    load = {
        "load_model": cnnkit.models.load_model,
        "load_weights": model.load_weights,
        "restore_into": lambda p: restore_into(model, p),
    }[loader]
    refused(path, r"config.layers\[0\].config.filters must be an int in \[1, 65536\]", load)


# ---------------------------------------------------------------------- dtypes
@pytest.mark.parametrize("dtype", [torch.float64, torch.float16, torch.int32, torch.bool])
def test_weights_of_another_dtype_are_refused_not_cast(path, dtype):
    rewrite(path, lambda m, t: t.update({"stack.dense.bias": t["stack.dense.bias"].to(dtype)}))
    name = str(dtype).removeprefix("torch.")
    message = rf"weight 'stack.dense.bias' holds {name} values, the model needs float32"
    refused(path, message)
    refused(path, message, small_model().load_weights)


def test_an_int64_counter_must_stay_int64(tmp_path):
    """Normalization's adapt count is int64 in the model; a float32 one is refused."""
    model = cnnkit.Sequential([Normalization(input_shape=(4,)), Dense(2)])
    model.save_weights(tmp_path / "w.keras")
    rewrite(tmp_path / "w.keras", lambda m, t: t.update({"stack.normalization.count": t["stack.normalization.count"].float()}))  # fmt: skip
    fresh = cnnkit.Sequential([Normalization(input_shape=(4,)), Dense(2)])
    message = r"'stack.normalization.count' holds float32 values, the model needs int64"
    refused(tmp_path / "w.keras", message, fresh.load_weights)


# ---------------------------------------------------------------------- sizes against the file
def test_a_header_declaring_more_weights_than_the_file_holds_is_refused(path):
    edit_section(path, "config", in_layer(3, units=60000))
    refused(
        path, r"weight 'stack.dense.weight' has shape \(3, 144\), the model needs \(60000, 144\)"
    )


def test_unsaved_buffers_are_bounded_by_the_file(tmp_path):
    """Normalization's given mean is spread over the input's shape without being saved."""
    path = tmp_path / "m.keras"
    model = cnnkit.Sequential(
        [Normalization(axis=(1, 2, 3), mean=0.5, variance=1.0, input_shape=(8, 8, 1)), Flatten(), Dense(2)]
    )  # fmt: skip
    model.save(path)
    edit_section(path, "config", lambda c: {**c, "input_shape": [8192, 8192, 3]})
    edit_section(path, "config", in_layer(0, input_shape=[8192, 8192, 3]))
    edit_section(path, "config", lambda c: {**c, "layers": c["layers"][:1]})
    rewrite(path, lambda m, t: [t.pop(k) for k in list(t) if "dense" in k])
    refused(path, r"its architecture needs 1610612736 bytes of weights and buffers")


HUGE_FILES = r"""
import json, resource, sys
import cnnkit
from safetensors import safe_open
from safetensors.torch import save_file

path = sys.argv[1]
with safe_open(path, "pt") as reader:
    metadata, tensors = dict(reader.metadata()), {k: reader.get_tensor(k) for k in reader.keys()}
variants = []  # unchecked, each would allocate a Dense kernel of 0.7 to 1.1 GB
for input_shape, layer, key, value in [
    ([4096, 4096, 1], 0, "filters", 4),  # 3 x 67 million
    ([32, 32, 1], 0, "filters", 65536),  # 3 x 59 million
    ([258, 258, 1], 3, "units", 1024),  # 1024 x 262144
]:
    changed = json.loads(metadata["config"])
    changed["input_shape"] = input_shape
    changed["layers"][layer]["config"][key] = value
    variants.append(changed)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
for index, changed in enumerate(variants):
    save_file(tensors, f"{path}.{index}", metadata={**metadata, "config": json.dumps(changed)})
    try:
        cnnkit.models.load_model(f"{path}.{index}")
    except ValueError as error:
        print("refused:", str(error)[:80])
growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
print("growth_kib", growth)
"""


@pytest.mark.skipif(sys.platform != "linux", reason="ru_maxrss in KiB is Linux's")
def test_small_files_declaring_huge_layers_allocate_nothing_big(path):
    """Unchecked, these 11 KB files would allocate 0.7 to 1.1 GB each before comparing shapes."""
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(HUGE_FILES), str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    lines = result.stdout.splitlines()
    assert sum(line.startswith("refused:") for line in lines) == 3, result.stdout
    growth_kib = int(lines[-1].split()[1])
    assert growth_kib < 64 * 1024, result.stdout  # a tenth of the smallest allocation


def test_raw_header_with_tensor_shapes_beyond_the_data_is_unreadable(path):
    header, body = raw_header(path.read_bytes())
    header["stack.dense.weight"]["shape"] = [3, 144000000]
    path.write_bytes(with_raw_header(header, body))
    refused(path, r"is not a readable cnnkit file")


def test_a_float64_layer_round_trips_with_its_dtype(tmp_path):
    """Weights are never cast, so a layer's dtype travels in the file with them."""
    model = cnnkit.Sequential([Dense(3, dtype="float64", input_shape=(4,)), Dense(2)])
    model.save(tmp_path / "m.keras")
    loaded = cnnkit.models.load_model(tmp_path / "m.keras")
    assert loaded.layers[0].weight.dtype == torch.float64
    assert loaded.layers[1].weight.dtype == torch.float32
    torch.testing.assert_close(loaded.layers[0].weight, model.layers[0].weight)
