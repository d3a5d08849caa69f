"""One training step, kept as lean as a hand-written PyTorch loop."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from cnnkit import activations, config
from cnnkit._fast import _compiled
from cnnkit._fast._ahead import LayersFrom
from cnnkit.layers import Dense
from cnnkit.losses import CategoricalCrossentropy, Loss, SparseCategoricalCrossentropy


class LogitsForward(nn.Module):
    """The model's forward pass (from layer ``start`` on) stopped before its final softmax.
    Cross-entropy on logits is one fused, numerically stable kernel, as TensorFlow-Keras
    computes it under the hood."""

    def __init__(self, model: nn.Module, start: int = 0):
        super().__init__()
        self.model, self.start = model, start

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.model.run_layers(x, stop=-1, start=self.start)
        last = self.model.layers[-1]  # the softmax Dense layer, applied here without softmax
        return F.linear(x, last.weight, last.bias)


def logits_forward(model, loss: Loss, start: int = 0) -> LogitsForward | None:
    """A :class:`LogitsForward` when the model ends in a softmax Dense layer (after ``start``)
    and the loss is a categorical cross-entropy on probabilities; otherwise None."""
    if not hasattr(model, "run_layers"):  # a graph model: its last layer may not be the output
        return None
    layers = model.layers
    if len(layers) <= start or loss.from_logits:
        return None
    last = layers[-1]
    if not (isinstance(last, Dense) and last.activation is activations.softmax and last.plain_call):
        return None
    sparse_ok = type(loss) is SparseCategoricalCrossentropy and loss.options["ignore_class"] is None
    if not (sparse_ok or type(loss) is CategoricalCrossentropy):
        return None
    return LogitsForward(model, start)


def logits_loss(
    loss: Loss,
) -> Callable[[torch.Tensor, torch.Tensor, torch.Tensor | None], torch.Tensor]:
    """Per-batch mean cross-entropy computed from logits (0 for an empty shard)."""
    smoothing = loss.options.get("label_smoothing", 0.0)
    sparse = type(loss) is SparseCategoricalCrossentropy

    def compute(
        y_true: torch.Tensor, logits: torch.Tensor, sample_weight: torch.Tensor | None
    ) -> torch.Tensor:
        target = y_true.reshape(logits.shape[:-1]).long() if sparse else y_true.to(logits.dtype)
        if sample_weight is None and logits.shape[0]:
            return F.cross_entropy(logits, target, label_smoothing=smoothing)
        per_sample = F.cross_entropy(logits, target, reduction="none", label_smoothing=smoothing)
        if sample_weight is not None:
            per_sample = per_sample * sample_weight
        return per_sample.sum() / max(per_sample.numel(), 1)

    return compute


def autocast_context(device: torch.device) -> Callable[[], contextlib.AbstractContextManager]:
    """A context factory for the configured precision (a no-op for float32)."""
    dtype = config.autocast_dtype()
    if dtype is None:
        return contextlib.nullcontext
    return lambda: torch.autocast(device_type=device.type, dtype=dtype)


def make_train_step(
    model,
    optimizer: torch.optim.Optimizer,
    wrap: Callable[[nn.Module], nn.Module],
    device: torch.device,
    start: int = 0,
):
    """Build the function ``step(x, y, w, scale) -> (outputs, loss)`` for one optimiser step.

    ``scale`` multiplies the batch-mean loss before backward: 1 on one process; under
    torchrun it is (local samples x processes / global batch), so that after
    DistributedDataParallel averages the gradients they equal the global batch's.
    ``start`` > 0: the batches come out of the model's first ``start`` layers already (run
    ahead of the step: cnnkit._fast._ahead).
    """
    fast = logits_forward(model, model.loss, start)
    forward = wrap(fast if fast is not None else LayersFrom(model, start) if start else model)
    compute_loss = logits_loss(model.loss) if fast is not None else model.loss
    forward, auto = _compiled.compiled_forward(forward, model.jit_compile)  # the fast path
    penalties = any(True for _ in model._penalty_sources())
    constraints = any(True for _ in model._constraint_sources())
    learns = any(p.requires_grad for p in model.parameters())  # else steps only measure
    autocast = autocast_context(device)
    scaler = (
        torch.amp.GradScaler(device.type)
        if config.get_precision() == "float16" and device.type == "cuda"
        else None
    )

    def step(xb: torch.Tensor, yb: torch.Tensor, wb: torch.Tensor | None, scale: float = 1.0):
        if auto is not None:  # jit_compile='auto': time this step, with the forward it picks
            started = time.perf_counter()
            outputs, reported = run(auto.forward(), xb, yb, wb, scale)
            auto.record(time.perf_counter() - started)
            return outputs, reported
        return run(forward, xb, yb, wb, scale)

    def run(forward, xb: torch.Tensor, yb: torch.Tensor, wb: torch.Tensor | None, scale: float):
        optimizer.zero_grad(set_to_none=True)
        with autocast():
            outputs = forward(xb)
            loss = compute_loss(yb, outputs.float(), wb)
        total = loss * scale if scale != 1.0 else loss
        if penalties:
            total = total + sum(model.losses)
        if not learns:
            pass
        elif scaler is None:
            total.backward()
            optimizer.step()
        else:
            scaler.scale(total).backward()
            scaler.step(optimizer)
            scaler.update()
        if constraints:
            model.apply_constraints()
        reported = loss.detach() + (
            sum(model.losses, loss.new_zeros(())).detach() if penalties else 0.0
        )
        return outputs.detach().float(), reported

    step.outputs_are_logits = fast is not None  # type: ignore[attr-defined]
    step.auto_compile = auto  # type: ignore[attr-defined]
    return step
