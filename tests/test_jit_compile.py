"""compile(jit_compile=...): the compiled step trains like the eager one, compiles once per run
(the last partial batch included), 'auto' settles on a valid choice, and without a C++
compiler True falls back with one warning."""

from __future__ import annotations

import os
import warnings

import numpy as np
import pytest
import torch
from torch._dynamo.utils import counters
from torch._inductor.runtime.cache_dir_utils import default_cache_dir

import cnnkit
from cnnkit._fast import _compiled

needs_compiler = pytest.mark.skipif(
    not _compiled.compiler_available(), reason="torch.compile needs a C++ compiler on the CPU"
)

SAMPLES, BATCH = 20, 8  # two full batches and a partial one of 4 per epoch


def tiny_model(jit_compile):
    """A small CNN, the same weights for every call."""
    torch.manual_seed(0)
    model = cnnkit.Sequential(
        [
            cnnkit.Input((8, 8, 1)),
            cnnkit.layers.Conv2D(2, 3, activation="relu"),
            cnnkit.layers.Flatten(),
            cnnkit.layers.Dense(3, activation="softmax"),
        ]
    )
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", jit_compile=jit_compile)
    return model


def data():
    rng = np.random.default_rng(0)
    x = rng.random((SAMPLES, 8, 8, 1), dtype=np.float32)
    return x, rng.integers(0, 3, SAMPLES)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """(eager model, compiled model, the compile counters after the compiled fit)."""
    x, y = data()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TORCHINDUCTOR_CACHE_DIR", str(tmp_path_factory.mktemp("inductor")))
        torch._dynamo.reset()
        counters.clear()
        compiled = tiny_model(True)
        compiled.fit(x, y, batch_size=BATCH, epochs=2, shuffle=False, verbose=0)
        stats = dict(counters["stats"])
    eager = tiny_model(False)
    eager.fit(x, y, batch_size=BATCH, epochs=2, shuffle=False, verbose=0)
    return eager, compiled, stats


@needs_compiler
def test_compiled_training_matches_eager(trained):
    eager, compiled, _ = trained
    for ours, theirs in zip(compiled.parameters(), eager.parameters(), strict=True):
        torch.testing.assert_close(ours, theirs, rtol=1e-5, atol=1e-6)
    x, _ = data()
    np.testing.assert_allclose(
        compiled.predict(x, verbose=0), eager.predict(x, verbose=0), rtol=1e-5, atol=1e-6
    )


@needs_compiler
def test_one_graph_for_the_whole_run_partial_batch_included(trained):
    _, compiled, stats = trained
    assert stats.get("unique_graphs") == 1  # the partial batch of 4 ran eager, not recompiled
    step = compiled._step_cache["train"][1]
    assert step.auto_compile is None


def test_auto_stays_eager_on_a_short_run():
    torch._dynamo.reset()
    counters.clear()
    model = tiny_model("auto")
    model.fit(*data(), batch_size=BATCH, epochs=2, verbose=0)
    auto = model._step_cache["train"][1].auto_compile
    assert auto.choice == "eager"
    assert auto.compiled is None and not counters["stats"].get("unique_graphs")


@needs_compiler
def test_auto_measures_both_and_keeps_a_valid_choice(monkeypatch, tmp_path):
    monkeypatch.setenv("TORCHINDUCTOR_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(_compiled, "PAYBACK_SECONDS", 0.0)  # worth trying on any run
    model = tiny_model("auto")
    model.fit(*data(), batch_size=BATCH, epochs=3, verbose=0)
    auto = model._step_cache["train"][1].auto_compile
    assert auto.compiled is not None
    assert auto.choice in ("eager", "compiled")
    assert len(auto.times["eager"]) == 3 and len(auto.times["compiled"]) == 3


def test_without_a_compiler_true_warns_once_and_trains_eager(monkeypatch):
    monkeypatch.delenv("CXX", raising=False)
    monkeypatch.setattr(_compiled.shutil, "which", lambda name: None)
    monkeypatch.setitem(_compiled._warned, "compiler", False)
    with pytest.warns(RuntimeWarning, match="needs a C\\+\\+ compiler"):
        first = tiny_model(True)
        first.fit(*data(), batch_size=BATCH, epochs=1, verbose=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        second = tiny_model(True)
        second.fit(*data(), batch_size=BATCH, epochs=1, verbose=0)
    eager = tiny_model(False)
    eager.fit(*data(), batch_size=BATCH, epochs=1, verbose=0)
    for ours, theirs in zip(second.parameters(), eager.parameters(), strict=True):
        torch.testing.assert_close(ours, theirs)


def test_jit_compile_rejects_other_values():
    model = cnnkit.zoo.lenet5()
    with pytest.raises(ValueError) as error:
        model.compile(optimizer="adam", loss="mse", jit_compile="yes")
    assert str(error.value) == (
        "compile: jit_compile must be True, False or 'auto'. Received: jit_compile='yes'"
    )


def test_compiled_graphs_cached_under_cnnkit_unless_the_user_chose(monkeypatch, tmp_path):
    monkeypatch.delenv("TORCHINDUCTOR_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    _compiled.use_cnnkit_cache()
    assert _compiled.os.environ["TORCHINDUCTOR_CACHE_DIR"] == str(tmp_path / "cnnkit" / "inductor")
    default = os.path.abspath(default_cache_dir())
    monkeypatch.setenv("TORCHINDUCTOR_CACHE_DIR", default)  # what importing torch._dynamo sets
    _compiled.use_cnnkit_cache()
    assert _compiled.os.environ["TORCHINDUCTOR_CACHE_DIR"] == str(tmp_path / "cnnkit" / "inductor")
    monkeypatch.setenv("TORCHINDUCTOR_CACHE_DIR", "/somewhere/chosen")
    _compiled.use_cnnkit_cache()
    assert _compiled.os.environ["TORCHINDUCTOR_CACHE_DIR"] == "/somewhere/chosen"
