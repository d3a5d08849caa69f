"""Post-training int8 quantization for CPU inference: Dense layers with int8 weights.

PyTorch's graph-mode (FX) static quantization cannot trace a cnnkit model: ``Layer.__call__``
checks that its input is a tensor or an array (an FX Proxy is neither) and
``Sequential.forward`` branches on its ``training`` argument, so ``prepare_fx`` stops with a
TypeError/TraceError. What works on any cnnkit model is dynamic quantization of its Dense
layers: weights stored as int8 (per output channel), activations quantized on the fly per
batch by ``torch.ao.nn.quantized.dynamic.Linear`` (fbgemm/x86 or onednn kernels). Convolutions
stay float32, so the speed-up is limited to what the Dense layers cost; ``bench/bench_int8.py``
measures it.
"""

from __future__ import annotations

import copy
import types
from typing import Any

import numpy as np
import torch

from cnnkit.layers import Dense

#: Least share of calibration images whose top class int8 must keep.
MIN_AGREEMENT = 0.95


def quantize_int8(
    model: Any, calibration_images: np.ndarray, min_agreement: float = MIN_AGREEMENT
) -> Any:
    """A copy of ``model`` whose Dense layers compute with int8 weights, checked on
    ``calibration_images`` before it is returned.

    For CPU inference only (``predict``, not training or saving: the copy keeps the float
    weights for its file format, and ``save`` would write those). The original is unchanged.

    Args:
        model: a built cnnkit model with at least one Dense layer.
        calibration_images: float32 inputs as the model takes them, ``(n, *input_shape[1:])``,
            n >= 1; a few hundred images from the training data are plenty.
        min_agreement: least share (0-1] of ``calibration_images`` whose top class must be
            the same as the float32 model's; below it ValueError says so.

    Returns:
        The quantized copy, in eval mode, with ``int8_agreement`` (the share measured).

    Example:
        >>> int8 = quantize_int8(model, x_train[:256])  # doctest: +SKIP
        >>> int8.predict(x_test).argmax(1)  # doctest: +SKIP
    """
    x = _checked_calibration(model, calibration_images)
    if not 0 < min_agreement <= 1:
        raise ValueError(
            f"min_agreement must be in (0, 1]. Received: min_agreement={min_agreement!r}"
        )
    dense = [layer for layer in model.modules() if isinstance(layer, Dense)]
    if not dense:
        raise ValueError(
            f"quantize_int8 quantizes Dense layers and model {getattr(model, 'name', '')!r} has "
            "none; int8 would not change it"
        )
    quantized = copy.deepcopy(model).eval()
    for layer in quantized.modules():
        if isinstance(layer, Dense):
            _to_int8(layer)
    for module in quantized.modules():  # cached forward chains still call the float layers
        forget = getattr(module, "_forget_forwards", None)
        if forget is not None:
            forget()
    agreement = _top1_agreement(model, quantized, x)
    if agreement < min_agreement:
        raise ValueError(
            f"int8 keeps the top class of only {agreement:.1%} of the calibration images "
            f"(min_agreement={min_agreement}); keep the float32 model"
        )
    quantized.int8_agreement = agreement
    return quantized


def _checked_calibration(model: Any, images: Any) -> np.ndarray:
    """The calibration images as float32, or ValueError naming the shape needed."""
    expected = tuple(getattr(model, "input_shape", None) or ())[1:]
    if images is None:
        raise ValueError(
            "quantize_int8 needs calibration_images: a few hundred training inputs of shape "
            f"(n, {', '.join(map(str, expected))}). Received: calibration_images=None"
        )
    x = np.asarray(images)
    if x.ndim != len(expected) + 1 or len(x) == 0 or tuple(x.shape[1:]) != expected:
        raise ValueError(
            f"calibration_images must have shape (n, {', '.join(map(str, expected))}) with "
            f"n >= 1, as the model takes them. Received: shape {x.shape}"
        )
    if not np.issubdtype(x.dtype, np.floating) or not np.isfinite(x).all():
        raise ValueError(
            "calibration_images must be finite floats, scaled as the model takes them. "
            f"Received: dtype {x.dtype}"
        )
    return x.astype(np.float32)


def _to_int8(layer: Dense) -> None:
    """Make ``layer`` compute through a dynamic int8 Linear built from its float weights."""
    linear = torch.nn.Linear(layer.weight.shape[1], layer.weight.shape[0], layer.bias is not None)
    with torch.no_grad():
        linear.weight.copy_(layer.weight)
        if layer.bias is not None:
            linear.bias.copy_(layer.bias)
    linear.qconfig = torch.ao.quantization.per_channel_dynamic_qconfig
    layer.int8_linear = torch.ao.nn.quantized.dynamic.Linear.from_float(linear)

    def forward(self: Dense, x: torch.Tensor) -> torch.Tensor:
        return self._activate(self.int8_linear(x.contiguous()))

    layer.forward = types.MethodType(forward, layer)


def _top1_agreement(model: Any, quantized: Any, x: np.ndarray) -> float:
    want = np.argmax(model.predict(x, batch_size=256, verbose=0), axis=-1)
    got = np.argmax(quantized.predict(x, batch_size=256, verbose=0), axis=-1)
    return float(np.mean(want == got))
