"""The training-memory estimate against PyTorch's own accounting of a real training step.

Method: one training step (forward, cross-entropy backward, Adam step) of a fresh model runs
under ``torch.profiler`` with ``profile_memory=True``; every allocation and release it records
is replayed in time order and the largest running total is the measured peak. The batch and the
parameters exist before the step, so they are outside both the measurement and ``peak``.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch.profiler import ProfilerActivity, profile

import cnnkit
from cnnkit.memory import max_batch_size, training_memory


def measured_peak(model, batch_size: int) -> int:
    x = torch.rand(batch_size, *model.input_shape[1:])
    y = torch.randint(0, 10, (batch_size,))
    optimizer = torch.optim.Adam(model.parameters())
    model.train()
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        loss = F.nll_loss(torch.log(model(x)), y)
        loss.backward()
        optimizer.step()
    current = peak = 0
    for event in sorted(prof.events(), key=lambda e: e.time_range.start):
        current += (
            event.cpu_memory_usage if event.name == "[memory]" else event.self_cpu_memory_usage
        )
        peak = max(peak, current)
    return peak


@pytest.mark.parametrize("name, input_shape", [("lenet5", (32, 32, 1)), ("small_cnn", (28, 28, 1))])
@pytest.mark.parametrize("batch_size", [32, 128, 512])
def test_estimate_within_15_percent_of_measured_peak(name, input_shape, batch_size):
    model = cnnkit.zoo.get(name, input_shape=input_shape)
    estimate = training_memory(model, batch_size).peak
    measured = measured_peak(model, batch_size)
    assert abs(estimate - measured) / measured <= 0.15, (estimate, measured)


def test_estimate_parts_are_exact_where_they_can_be():
    model = cnnkit.zoo.get("lenet5")
    memory = training_memory(model, 100, optimizer="adam")
    assert memory.parameters == memory.gradients == 61_706 * 4
    assert memory.optimizer_state == 2 * 61_706 * 4
    assert memory.inputs == 100 * 32 * 32 * 4
    # tanh outputs, pooled maps kept by the next layer, Dense inputs and outputs (floats per image)
    assert memory.activations == 100 * 4 * (
        28 * 28 * 6 + 14 * 14 * 6 + 10 * 10 * 16 + 400 + 120 + 84 + 10
    )
    assert training_memory(model, 100, optimizer="sgd").optimizer_state == 0


def test_max_batch_size_inverts_the_estimate():
    model = cnnkit.zoo.get("small_cnn")
    budget = 256 * 2**20
    batch = max_batch_size(model, budget)
    assert training_memory(model, batch).total <= budget < training_memory(model, batch + 1).total
    assert cnnkit.arithmetic.max_batch_size(model, budget) == batch


def test_summary_with_batch_size_reports_memory():
    model = cnnkit.zoo.get("lenet5")
    text = model.summary_text(batch_size=128)
    assert "Training memory for a batch of 128 (float32, adam), estimated:" in text
    assert "  Activations saved for backward: 3.95 MB" in text
    header = text.splitlines()[2]
    assert header.split() == ["Layer", "(type)", "Output", "Shape", "Param", "#", "Activations"]
    with pytest.raises(ValueError, match="batch_size must be an int >= 1"):
        model.summary_text(batch_size=0)


@pytest.mark.parametrize("batch_size", [32, 128])
def test_functional_residual_estimate_within_15_percent_of_measured_peak(batch_size):
    # BatchNormalization, skip connections kept alive across blocks, several paths of gradients
    model = cnnkit.zoo.get("resnet")
    estimate = training_memory(model, batch_size).peak
    measured = measured_peak(model, batch_size)
    assert abs(estimate - measured) / measured <= 0.15, (estimate, measured)


def test_a_functional_chain_is_estimated_as_its_sequential_twin():
    sequential = cnnkit.zoo.get("lenet5")
    inputs = cnnkit.Input(shape=(32, 32, 1))
    x = inputs
    for layer in sequential.layers:
        x = type(layer).from_config(layer.get_config())(x)
    functional = cnnkit.Model(inputs, x)
    ours, theirs = training_memory(functional, 64), training_memory(sequential, 64)
    assert (ours.peak, ours.activations, ours.inputs) == (
        theirs.peak,
        theirs.activations,
        theirs.inputs,
    )
    assert [m.saved for m in ours.layers[1:]] == [m.saved for m in theirs.layers]


def test_a_skip_connection_keeps_its_tensor_alive_in_the_estimate():
    def block(skip: bool):
        inputs = cnnkit.Input(shape=(16, 16, 8))
        x = cnnkit.layers.Conv2D(8, 3, padding="same")(inputs)
        y = cnnkit.layers.Conv2D(8, 3, padding="same")(x)
        y = cnnkit.layers.Conv2D(8, 3, padding="same")(y)
        return cnnkit.Model(inputs, cnnkit.layers.add([x, y]) if skip else y)

    with_skip, without = training_memory(block(True), 32), training_memory(block(False), 32)
    # the first conv's output stays alive for the addition: one more 32x16x16x8 float tensor
    assert with_skip.peak - without.peak >= 32 * 16 * 16 * 8 * 4


def test_summary_with_batch_size_on_a_functional_model():
    text = cnnkit.zoo.get("resnet").summary_text(batch_size=16)
    assert "Training memory for a batch of 16 (float32, adam), estimated:" in text
    assert "Connected to" in text.splitlines()[2] and "Activations" in text.splitlines()[2]


def test_a_subclassed_model_is_refused_by_name():
    class Net(cnnkit.Model):
        def __init__(self):
            super().__init__()
            self.dense = cnnkit.layers.Dense(2)

        def call(self, inputs):
            return self.dense(inputs)

    net = Net()
    net(torch.zeros(1, 3))
    with pytest.raises(
        TypeError, match=r"training_memory: .*subclassed model \(Net\) has no graph"
    ):
        training_memory(net, 4)


@pytest.mark.parametrize("batch_size", [32, 128])
def test_estimate_of_the_newer_convolutions_within_15_percent(batch_size):
    model = cnnkit.Sequential(
        [
            cnnkit.Input(shape=(16, 16, 3)),
            cnnkit.layers.SeparableConv2D(16, 3, activation="relu"),
            cnnkit.layers.DepthwiseConv2D(3, depth_multiplier=2, activation="relu"),
            cnnkit.layers.Conv2DTranspose(8, 3, strides=2, activation="relu"),
            cnnkit.layers.GlobalAveragePooling2D(),
            cnnkit.layers.Dense(10, activation="softmax"),
        ]
    )
    estimate = training_memory(model, batch_size).peak
    measured = measured_peak(model, batch_size)
    assert abs(estimate - measured) / measured <= 0.15, (estimate, measured)
