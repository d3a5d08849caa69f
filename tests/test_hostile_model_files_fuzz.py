"""Fuzzing: valid model files with mutated bytes, header fields and tensor sizes are either
loaded (and then train without error) or refused with the documented ValueError/OSError;
nothing else escapes, and memory stays bounded."""

from __future__ import annotations

import json
import resource
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from model_file_tools import raw_header, small_model, with_raw_header

import cnnkit

SETTINGS = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,  # the same examples on every run: a failure is reproducible, not flaky
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
SECTIONS = ("config", "compile", "optimizer")
ODD_INTS = st.sampled_from([0, -1, 1, 3, 65536, 65537, 2**31, 2**63, 10**30])
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | ODD_INTS | st.integers() | st.floats() | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=8,
)
X = np.random.default_rng(0).random((4, 8, 8, 1)).astype(np.float32)


@pytest.fixture(scope="module")
def original(tmp_path_factory):
    path = tmp_path_factory.mktemp("original") / "m.keras"
    small_model().save(path)
    return path.read_bytes()


@pytest.fixture(scope="module")
def memory_bound():
    """The process's peak memory may not grow by more than 256 MiB over all fuzz examples."""
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    yield
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    if sys.platform == "linux":
        assert grown_kib < 256 * 1024


def load_and_train(path) -> None:
    """Load; if the file is accepted, one epoch of training must run (or refuse clearly)."""
    try:
        model = cnnkit.models.load_model(path)
    except (ValueError, OSError):
        return
    if getattr(model, "compiled", False) and tuple(model.input_shape[1:]) == (8, 8, 1):
        try:
            model.fit(X, np.arange(4) % 3, epochs=1, batch_size=2, verbose=0)
        except ValueError:
            pass  # e.g. a mutated loss that does not take these labels


def pick_path(data, value):
    """A path (keys and indices) to some node of a JSON value, drawn step by step."""
    path = []
    while isinstance(value, (dict, list)) and value and data.draw(st.integers(0, 5)):
        keys = sorted(value) if isinstance(value, dict) else range(len(value))
        key = data.draw(st.sampled_from(list(keys)))
        path.append(key)
        value = value[key]
    return path


def replaced(value, path, new):
    if not path:
        return new
    value[path[0]] = replaced(value[path[0]], path[1:], new)
    return value


@SETTINGS
@given(data=st.data())
def test_mutated_header_fields(tmp_path, original, memory_bound, data):
    header, body = raw_header(original)
    metadata = header["__metadata__"]
    section = data.draw(st.sampled_from(SECTIONS))
    parsed = json.loads(metadata[section])
    new = data.draw(JSON_VALUES)
    metadata[section] = json.dumps(replaced(parsed, pick_path(data, parsed), new))
    path = tmp_path / "m.keras"
    path.write_bytes(with_raw_header(header, body))
    load_and_train(path)


@SETTINGS
@given(data=st.data())
def test_mutated_tensor_entries(tmp_path, original, memory_bound, data):
    header, body = raw_header(original)
    name = data.draw(st.sampled_from(sorted(k for k in header if k != "__metadata__")))
    field = data.draw(st.sampled_from(["dtype", "shape", "data_offsets", "name"]))
    if field == "dtype":
        header[name]["dtype"] = data.draw(st.sampled_from(["F64", "F16", "I64", "BOOL", "U8", "X"]))
    elif field == "shape":
        header[name]["shape"] = data.draw(st.lists(ODD_INTS | st.integers(0, 300), max_size=4))
    elif field == "data_offsets":
        header[name]["data_offsets"] = data.draw(st.lists(ODD_INTS | st.integers(0, 12000), max_size=3))  # fmt: skip
    else:
        header[data.draw(st.text(max_size=20))] = header.pop(name)
    path = tmp_path / "m.keras"
    path.write_bytes(with_raw_header(header, body))
    load_and_train(path)


@SETTINGS
@given(data=st.data())
def test_mutated_bytes(tmp_path, original, memory_bound, data):
    content = bytearray(original)
    for _ in range(data.draw(st.integers(1, 8))):
        position = data.draw(st.integers(0, len(content) - 1))
        content[position] = data.draw(st.integers(0, 255))
    if data.draw(st.booleans()):
        content = content[: data.draw(st.integers(0, len(content)))]
    path = tmp_path / "m.keras"
    path.write_bytes(bytes(content))
    load_and_train(path)
