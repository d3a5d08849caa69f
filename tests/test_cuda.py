"""CUDA against the CPU: the same seed trains the same weights and history, predict, evaluate and
every explanation agree, and NumPy training data goes to the GPU once, not once per batch.

Every test here needs a CUDA device and is skipped without one; ``pytest -m cuda`` selects
them (``bench/gpu_check.sh`` runs them on a lent GPU). TF32 is turned off while they run, so
CUDA computes in true float32 and the CPU's results are the oracle within float tolerance.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from explain_helpers import in_float64

import cnnkit
from cnnkit import config, explain, zoo
from cnnkit.utils import set_random_seed

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device"),
]

MODELS = {  # no Dropout: CPU and CUDA draw different random masks from the same seed
    "lenet5": lambda: zoo.get("lenet5", input_shape=(32, 32, 1)),
    "small_cnn": lambda: zoo.get("small_cnn", input_shape=(32, 32, 1), dropout=0.0),
    "resnet": lambda: zoo.get("resnet", input_shape=(32, 32, 1), width=8),
}
SAMPLES, BATCH = 96, 16  # 72 training samples after validation_split=0.25: 5 batches


@pytest.fixture(autouse=True)
def true_float32_and_device_restored():
    """No TF32 (its 10-bit mantissa would hide real differences); the device put back."""
    saved = (torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32)
    device, precision = config._state["device"], config.get_precision()
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = False
    yield
    torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = saved
    config.set_device(device)
    config.set_precision(precision)


def data(samples: int = SAMPLES) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.random((samples, 32, 32, 1), dtype=np.float32)
    return x, (x[:, :16].mean(axis=(1, 2, 3)) > x[:, 16:].mean(axis=(1, 2, 3))).astype(np.int64)


def fitted(name: str, device: str, epochs: int = 2):
    """The model ``name`` built from seed 0 and trained on ``device``; (model, history)."""
    config.set_device(device)
    set_random_seed(0)
    model = MODELS[name]()
    model.compile(
        optimizer=cnnkit.optimizers.SGD(0.05, momentum=0.9),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    x, y = data()
    history = model.fit(x, y, batch_size=BATCH, epochs=epochs, verbose=0, validation_split=0.25)
    return model, history.history


@pytest.mark.parametrize("name", list(MODELS))
def test_fit_on_cuda_trains_the_weights_and_history_of_the_cpu(name):
    on_cpu, cpu_history = fitted(name, "cpu")
    on_cuda, cuda_history = fitted(name, "cuda")
    assert next(on_cuda.parameters()).device.type == "cuda"
    assert cuda_history.keys() == cpu_history.keys()
    for key, values in cpu_history.items():
        np.testing.assert_allclose(cuda_history[key], values, rtol=1e-4, atol=1e-5, err_msg=key)
    for cuda_weight, cpu_weight in zip(on_cuda.get_weights(), on_cpu.get_weights(), strict=True):
        np.testing.assert_allclose(cuda_weight, cpu_weight, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", list(MODELS))
def test_predict_and_evaluate_on_cuda_equal_the_cpu(name):
    model, _ = fitted(name, "cpu", epochs=1)
    x, y = data()
    expected = model.predict(x, batch_size=32, verbose=0)
    expected_scores = model.evaluate(x, y, batch_size=32, verbose=0, return_dict=True)
    config.set_device("cuda")
    observed = model.predict(x, batch_size=32, verbose=0)
    scores = model.evaluate(x, y, batch_size=32, verbose=0, return_dict=True)
    assert next(model.parameters()).device.type == "cuda"
    np.testing.assert_allclose(observed, expected, rtol=1e-5, atol=1e-6)
    assert scores.keys() == expected_scores.keys()
    for key, value in expected_scores.items():
        assert scores[key] == pytest.approx(value, rel=1e-5, abs=1e-6), key


def test_bfloat16_fit_on_cuda_runs_under_autocast_and_learns():
    config.set_precision("bfloat16")
    model, history = fitted("small_cnn", "cuda", epochs=3)
    losses = history["loss"]
    assert all(np.isfinite(losses)) and losses[-1] < losses[0]
    assert next(model.parameters()).dtype == torch.float32  # autocast keeps float32 weights


# ---------------------------------------------------------------- data kept on the device


def test_numpy_training_data_is_copied_to_the_gpu_once_not_per_batch():
    """A profile of fit counts the host-to-device copies: with the data on the GPU they do not
    grow with the batches (a copy of x and y per batch would add two per batch)."""
    from torch.profiler import ProfilerActivity, profile

    x, y = data(samples=512)
    config.set_device("cuda")
    set_random_seed(0)
    model = MODELS["lenet5"]()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x[:32], y[:32], batch_size=16, epochs=1, verbose=0)  # warm-up: cuDNN, allocator
    torch.cuda.synchronize()
    steps = 3 * len(x) // 16
    with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as profiled:
        model.fit(x, y, batch_size=16, epochs=3, verbose=0)
        torch.cuda.synchronize()
    copies = [e for e in profiled.events() if "HtoD" in e.name or "Memcpy HtoD" in e.name]
    assert len(copies) < steps // 4, (len(copies), steps, sorted({e.name for e in copies}))


# ---------------------------------------------------------------- explanations

EXPLANATIONS = {
    "grad_cam": lambda model, x: explain.grad_cam(model, x, target=1),
    "grad_cam_plus_plus": lambda model, x: explain.grad_cam_plus_plus(model, x, target=1),
    "saliency": lambda model, x: explain.saliency(model, x),
    "integrated_gradients": lambda model, x: explain.integrated_gradients(model, x, steps=16),
    "occlusion": lambda model, x: explain.occlusion(model, x, window=6, stride=3),
}


def float64_model(name: str):
    set_random_seed(0)
    return in_float64(MODELS[name]()).eval()


@pytest.mark.parametrize("method", list(EXPLANATIONS))
@pytest.mark.parametrize("name", ["lenet5", "resnet"])
def test_explanations_on_cuda_equal_the_cpu_in_float64(name, method):
    model = float64_model(name)
    x = np.random.default_rng(3).random((6, 32, 32, 1))
    expected = EXPLANATIONS[method](model, x)
    model.to("cuda")
    observed = EXPLANATIONS[method](model, x)
    assert observed.dtype == np.float64
    np.testing.assert_allclose(observed, expected, rtol=1e-7, atol=1e-10)


def test_smooth_grad_on_cuda_is_the_cpu_saliency_of_the_cuda_noise():
    """SmoothGrad draws its noise on the model's device (CUDA's generator differs from the
    CPU's), so the oracle rebuilds the documented noisy copies and averages CPU saliency."""
    samples, level, seed = 5, 0.2, 7
    model = float64_model("lenet5")
    x = np.random.default_rng(4).random((3, 32, 32, 1))
    with torch.no_grad():
        classes = model(torch.from_numpy(x)).argmax(dim=1).tolist()
    generator = torch.Generator(device="cuda").manual_seed(seed)
    expected = []
    for image, label in zip(x, classes):
        noise = torch.randn(
            (samples, *image.shape), generator=generator, device="cuda", dtype=torch.float64
        ).cpu()
        noisy = image + noise.numpy() * (image.max() - image.min()) * level
        expected.append(explain.saliency(model, noisy, target=[label] * samples).mean(0))
    model.to("cuda")
    observed = explain.smooth_grad(model, x, samples=samples, noise_level=level, seed=seed)
    np.testing.assert_allclose(observed, np.stack(expected), rtol=1e-7, atol=1e-10)


def test_the_cuda_model_is_left_as_it_was():
    model = float64_model("lenet5").to("cuda")
    before = [w.detach().clone() for w in model.parameters()]
    explain.grad_cam(model, np.random.default_rng(5).random((2, 32, 32, 1)))
    for weight, kept in zip(model.parameters(), before, strict=True):
        assert weight.device.type == "cuda" and weight.grad is None
        torch.testing.assert_close(weight.detach(), kept, rtol=0, atol=0)
