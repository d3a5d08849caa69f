"""CNN arithmetic: output sizes, padding splits, parameter counts, receptive fields, multiply-adds."""

from __future__ import annotations

import keras
import pytest
import torch

import cnnkit
from cnnkit import arithmetic
from cnnkit.arithmetic import (
    conv_output_size,
    conv_params,
    multiply_adds,
    pool_output_size,
    receptive_fields,
    same_padding,
)


def test_the_lectures_quiz():
    """3 input maps, two 5x5 filters: 150 weights + 2 biases = 152 parameters."""
    assert conv_params(3, 2, 5) == 152
    assert conv_params(3, 2, (5, 5), use_bias=False) == 150
    layer = keras.layers.Conv2D(2, 5)
    layer.build((None, 32, 32, 3))
    assert layer.count_params() == 152


@pytest.mark.parametrize("size", [5, 8, 13])
@pytest.mark.parametrize(
    "kernel, stride, dilation", [(1, 1, 1), (3, 1, 1), (3, 2, 1), (4, 3, 1), (3, 1, 2)]
)
def test_output_sizes_equal_torch_and_keras(size, kernel, stride, dilation):
    x = torch.zeros(1, 1, size, size)
    weight = torch.zeros(1, 1, kernel, kernel)
    effective = (kernel - 1) * dilation + 1
    if size >= effective:
        valid = torch.nn.functional.conv2d(x, weight, stride=stride, dilation=dilation).shape[-1]
        assert conv_output_size(size, kernel, stride, "valid", dilation) == valid
    full = torch.nn.functional.conv2d(
        x, weight, stride=stride, padding=effective - 1, dilation=dilation
    ).shape[-1]
    assert conv_output_size(size, kernel, stride, "full", dilation) == full
    same = keras.layers.Conv2D(1, kernel, strides=stride, dilation_rate=dilation, padding="same")
    assert (
        conv_output_size(size, kernel, stride, "same", dilation)
        == same.compute_output_shape((1, size, size, 1))[1]
    )
    before, after = same_padding(size, kernel, stride, dilation)
    padded = torch.nn.functional.pad(x, (before, after, before, after))
    assert torch.nn.functional.conv2d(padded, weight, stride=stride, dilation=dilation).shape[
        -1
    ] == -(-size // stride)
    assert after - before in (0, 1)


def test_pool_output_size_defaults_stride_to_pool():
    assert pool_output_size(28, 2) == 14
    assert pool_output_size(7, 2, padding="same") == 4
    with pytest.raises(ValueError, match="padding must be one of"):
        conv_output_size(5, 3, padding="circular")


def test_receptive_fields_of_lenet5():
    rows = receptive_fields(cnnkit.zoo.get("lenet5"))
    assert [row["receptive_field"] for row in rows] == [
        (5, 5),
        (6, 6),
        (14, 14),
        (16, 16),
        (32, 32),
        (32, 32),
        (32, 32),
        (32, 32),
    ]
    assert rows[3]["jump"] == (4, 4)


def test_multiply_adds_by_hand():
    counts = {row["name"]: row["multiply_adds"] for row in multiply_adds(cnnkit.zoo.get("lenet5"))}
    assert counts["conv2d"] == 28 * 28 * 6 * 25
    assert counts["conv2d_1"] == 10 * 10 * 16 * 25 * 6
    assert counts["dense"] == 400 * 120 and counts["average_pooling2d"] == 0


def test_summary_formulas_are_the_lectures():
    lines = cnnkit.zoo.get("lenet5").summary_text(formulas=True).splitlines()
    formulas = [line.split(")   ", 1)[-1].split(")", 1)[-1].strip() for line in lines[4:12]]
    assert formulas == [
        "6 × (5×5×1) + 6 = 156",
        "0",
        "16 × (5×5×6) + 16 = 2,416",
        "0",
        "0",
        "400 × 120 + 120 = 48,120",
        "120 × 84 + 84 = 10,164",
        "84 × 10 + 10 = 850",
    ]
    bn = cnnkit.zoo.get("small_cnn").summary_text(formulas=True)
    assert "4 × 32 = 128" in bn and "32 × (3×3×1) = 288" in bn


def _functional_twin(sequential):
    inputs = cnnkit.Input(shape=sequential.input_shape[1:])
    x = inputs
    for layer in sequential.layers:
        x = type(layer).from_config(layer.get_config())(x)
    return cnnkit.Model(inputs, x)


def test_functional_chain_has_the_arithmetic_of_its_sequential_twin():
    sequential = cnnkit.zoo.get("lenet5")
    functional = _functional_twin(sequential)
    assert arithmetic.multiply_adds(functional)[1:] == [
        dict(row, name=layer.name)
        for row, layer in zip(arithmetic.multiply_adds(sequential), functional.layers[1:])
    ]
    ours = [(r["receptive_field"], r["jump"]) for r in arithmetic.receptive_fields(functional)]
    theirs = [(r["receptive_field"], r["jump"]) for r in arithmetic.receptive_fields(sequential)]
    assert ours[1:] == theirs


def test_receptive_fields_refuse_a_branching_model_by_name():
    with pytest.raises(ValueError, match=r"receptive_fields: .* model 'resnet\w*' branches"):
        arithmetic.receptive_fields(cnnkit.zoo.get("resnet"))


def test_multiply_adds_of_the_newer_convolutions():
    model = cnnkit.Sequential(
        [
            cnnkit.Input(shape=(10, 10, 3)),
            cnnkit.layers.DepthwiseConv2D(3, depth_multiplier=2),  # 8x8x6 out
            cnnkit.layers.SeparableConv2D(4, 3),  # 6x6x4 out
            cnnkit.layers.Conv2DTranspose(5, 3, strides=2),  # 6x6 in, 13x13x5 out
        ]
    )
    counts = [row["multiply_adds"] for row in arithmetic.multiply_adds(model)]
    assert counts == [
        8 * 8 * (3 * 3 * 3 * 2),  # each output pixel: one 3x3 window per input channel x 2
        6 * 6 * (3 * 3 * 6) + 6 * 6 * (6 * 4),  # depthwise, then 1x1 pointwise
        6 * 6 * (3 * 3 * 4 * 5),  # each input pixel scatters a 3x3x5 patch per channel
    ]
    with pytest.raises(
        ValueError, match=r"layer 'conv2d_transpose\w*' \(Conv2DTranspose\) enlarges"
    ):
        arithmetic.receptive_fields(model)
