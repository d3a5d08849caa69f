"""One training step and one evaluation step, kept as lean as a hand-written PyTorch loop."""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from cnnkit import activations
from cnnkit.layers import Dense
from cnnkit.losses import CategoricalCrossentropy, Loss, SparseCategoricalCrossentropy

_module_call = nn.Module.__call__


def logits_forward(model, loss: Loss) -> Callable[[torch.Tensor], torch.Tensor] | None:
    """A forward pass that stops before the final softmax, when the loss allows it.

    A softmax output followed by cross-entropy is computed from the logits with one fused,
    numerically stable kernel (as TensorFlow-Keras does under the hood). Returns None when the
    model or loss does not have that form.
    """
    layers = model.layers
    if not layers or loss.from_logits:
        return None
    last = layers[-1]
    if not (isinstance(last, Dense) and last.activation is activations.softmax and last.plain_call):
        return None
    if type(loss) is SparseCategoricalCrossentropy and loss.options["ignore_class"] is None:
        pass
    elif type(loss) is not CategoricalCrossentropy:
        return None
    body = layers[:-1]

    def forward(x: torch.Tensor) -> torch.Tensor:
        for layer in body:
            x = _module_call(layer, x) if layer.plain_call else layer(x)
        return F.linear(x, last.weight, last.bias)

    return forward


def logits_loss(
    loss: Loss,
) -> Callable[[torch.Tensor, torch.Tensor, torch.Tensor | None], torch.Tensor]:
    """The loss of :func:`logits_forward`'s output: fused cross-entropy on logits."""
    smoothing = loss.options.get("label_smoothing", 0.0)
    sparse = type(loss) is SparseCategoricalCrossentropy

    def compute(
        y_true: torch.Tensor, logits: torch.Tensor, sample_weight: torch.Tensor | None
    ) -> torch.Tensor:
        target = y_true.reshape(logits.shape[:-1]).long() if sparse else y_true.to(logits.dtype)
        if sample_weight is None:
            return F.cross_entropy(logits, target, label_smoothing=smoothing)
        per_sample = F.cross_entropy(logits, target, reduction="none", label_smoothing=smoothing)
        return (per_sample * sample_weight).sum() / per_sample.numel()

    return compute
