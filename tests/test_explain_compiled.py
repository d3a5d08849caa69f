"""Explanations of a model trained with ``compile(jit_compile=True)`` equal those of the same
model trained eagerly, and explaining it (hooks, gradients switched on and off) leaves its
compiled training step training as the eager one does."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch._dynamo.utils import counters

import cnnkit
from cnnkit import config, explain
from cnnkit._fast import _compiled

needs_compiler = pytest.mark.skipif(
    not _compiled.compiler_available(), reason="torch.compile needs a C++ compiler on the CPU"
)
DEVICES = [
    "cpu",
    pytest.param(
        "cuda",
        marks=[
            pytest.mark.cuda,
            pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device"),
        ],
    ),
]
SAMPLES, BATCH = 32, 8
EXPLANATIONS = {
    "grad_cam": lambda model, x: explain.grad_cam(model, x, target=1),
    "grad_cam_plus_plus": lambda model, x: explain.grad_cam_plus_plus(model, x, target=1),
    "saliency": lambda model, x: explain.saliency(model, x, target=1),
    "smooth_grad": lambda model, x: explain.smooth_grad(model, x, target=1, samples=4, seed=3),
    "integrated_gradients": lambda m, x: explain.integrated_gradients(m, x, target=1, steps=8),
    "occlusion": lambda model, x: explain.occlusion(model, x, target=1, window=4, stride=2),
}


def model_for(jit_compile: bool) -> cnnkit.Sequential:
    cnnkit.utils.set_random_seed(0)
    model = cnnkit.Sequential(
        [
            cnnkit.Input((10, 10, 1)),
            cnnkit.layers.Conv2D(4, 3, activation="relu"),
            cnnkit.layers.Conv2D(4, 3, activation="relu"),
            cnnkit.layers.Flatten(),
            cnnkit.layers.Dense(3, activation="softmax"),
        ]
    )
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", jit_compile=jit_compile)
    return model


@pytest.fixture(scope="module", params=DEVICES)
def runs(request, tmp_path_factory):
    """{jit_compile: (maps per method, weights after fit -> explain -> fit, graphs compiled)}
    on a device."""
    saved = config._state["device"]
    rng = np.random.default_rng(0)
    x, y = rng.random((SAMPLES, 10, 10, 1), dtype=np.float32), rng.integers(0, 3, SAMPLES)
    results = {}
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TORCHINDUCTOR_CACHE_DIR", str(tmp_path_factory.mktemp("inductor")))
        config.set_device(request.param)
        try:
            for jit_compile in (False, True):
                torch._dynamo.reset()
                counters.clear()
                model = model_for(jit_compile)
                model.fit(x, y, batch_size=BATCH, epochs=1, shuffle=False, verbose=0)
                maps = {name: method(model, x[:4]) for name, method in EXPLANATIONS.items()}
                model.fit(x, y, batch_size=BATCH, epochs=1, shuffle=False, verbose=0)
                graphs = counters["stats"].get("unique_graphs", 0)
                results[jit_compile] = maps, [w.copy() for w in model.get_weights()], graphs
        finally:
            config.set_device(saved)
    return results


@needs_compiler
@pytest.mark.parametrize("method", list(EXPLANATIONS))
def test_compiled_and_eager_training_explain_alike(runs, method):
    eager, compiled = runs[False][0][method], runs[True][0][method]
    assert compiled.shape == eager.shape == (4, 10, 10)
    np.testing.assert_allclose(compiled, eager, rtol=1e-4, atol=1e-6)


@needs_compiler
def test_explaining_leaves_the_compiled_step_training_like_the_eager_one(runs):
    assert runs[False][2] == 0 and runs[True][2] >= 1  # the compiled run did compile
    for compiled, eager in zip(runs[True][1], runs[False][1], strict=True):
        np.testing.assert_allclose(compiled, eager, rtol=1e-5, atol=1e-6)
