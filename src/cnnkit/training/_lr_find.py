"""The learning-rate range test (Smith, 2015; fastai's ``lr_find``): train a few batches while
the rate grows exponentially, watch the loss, then put everything back.

Everything the test touches is restored bit for bit afterwards: the weights and the
BatchNormalization statistics, the optimizer (its state, rate and step count), and every
random generator (torch's, CUDA's, NumPy's, Python's and the augmentation layers' own), so a
fit after ``lr_find`` is the fit without it.
"""

from __future__ import annotations

import copy
import itertools
import math
import random
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch

from cnnkit._validation import check_choice, check_int, check_number
from cnnkit.training._data import ArrayData
from cnnkit.training._lr_curve import SUGGESTIONS, LRFindResult, suggest
from cnnkit.training._resume import random_states, set_random_states
from cnnkit.training._stream_data import adapt_data

__all__ = ["LRFinder"]


class _Snapshot:
    """The model's weights and buffers, its optimizer and every random generator, taken once
    and put back by :meth:`restore`."""

    def __init__(self, model: Any) -> None:
        self.model = model
        self.tensors = {k: v.detach().clone() for k, v in model.state_dict().items()}
        optimizer = model.optimizer
        self.torch_optimizer = optimizer.torch_optimizer
        self.optimizer_state = (
            None
            if self.torch_optimizer is None
            else copy.deepcopy(self.torch_optimizer.state_dict())
        )
        self.optimizer_fields = (
            optimizer._learning_rate,
            optimizer._iterations,
            optimizer.learning_rate_schedule,
        )
        self.step_cache = dict(model._step_cache)
        self.randoms = (random_states(model), np.random.get_state(), random.getstate())
        self.flags = (model.training, model.stop_training)

    def restore(self) -> None:
        """Put everything back as it was when the snapshot was taken."""
        model, optimizer = self.model, self.model.optimizer
        with torch.no_grad():
            for name, value in model.state_dict().items():
                value.copy_(self.tensors[name])
        optimizer.torch_optimizer = self.torch_optimizer
        if self.torch_optimizer is not None:
            self.torch_optimizer.load_state_dict(self.optimizer_state)
        (
            optimizer._learning_rate,
            optimizer._iterations,
            optimizer.learning_rate_schedule,
        ) = self.optimizer_fields
        model._step_cache.clear()
        model._step_cache.update(self.step_cache)
        set_random_states(model, self.randoms[0])
        np.random.set_state(self.randoms[1])
        random.setstate(self.randoms[2])
        model.train(self.flags[0])
        model.stop_training = self.flags[1]


def _cycled(data: Any, batch_size: int, generator: torch.Generator) -> Iterator[tuple]:
    """The data's batches, shuffled, over and over (a new order each pass)."""
    for _ in itertools.count():
        empty = True
        for batch in data.batches(batch_size, True, generator):
            empty = False
            yield batch
        if empty:
            return


class LRFinder:
    """One range test on one model: checked settings, then :meth:`run`."""

    def __init__(self, model: Any, start_lr: Any, end_lr: Any, steps: Any, **options: Any):
        owner = "lr_find"
        self.model = model
        self.start_lr = check_number(start_lr, "start_lr", owner, minimum=0, exclusive_minimum=True)
        self.end_lr = check_number(end_lr, "end_lr", owner, minimum=0, exclusive_minimum=True)
        if self.end_lr <= self.start_lr:
            raise ValueError(
                f"lr_find: end_lr must be larger than start_lr. Received: start_lr={start_lr!r}, "
                f"end_lr={end_lr!r}"
            )
        self.steps = check_int(steps, "steps", owner, minimum=2)
        self.batch_size = check_int(options["batch_size"], "batch_size", owner, minimum=1)
        self.smoothing = check_number(
            options["smoothing"], "smoothing", owner, minimum=0, maximum=1, exclusive_maximum=True
        )
        self.diverge = check_number(
            options["diverge"], "diverge", owner, minimum=1, exclusive_minimum=True
        )
        self.rule = check_choice(options["suggestion"], "suggestion", owner, choices=SUGGESTIONS)

    def rate(self, step: int) -> float:
        """The learning rate of 0-based ``step``: exponential from start_lr to end_lr."""
        return self.start_lr * (self.end_lr / self.start_lr) ** (step / (self.steps - 1))

    def run(self, x: Any, y: Any) -> LRFindResult:
        """Train up to ``steps`` batches of ``x, y`` on the ramp; restore; return the curve."""
        model = self.model
        model._require_compiled("lr_find")
        device, world = model._prepare_run(self.batch_size, "lr_find")
        data = adapt_data(x, y, None, self.batch_size, True, device, "lr_find", needs_y=True)
        if isinstance(data, ArrayData):
            model._check_arrays(data, "lr_find")
        snapshot = _Snapshot(model)
        try:
            lrs, losses, smoothed, diverged = self._search(data, device, world)
        finally:
            snapshot.restore()
        cut = len(losses) - 1 if diverged else len(losses)
        found = suggest(lrs[:cut], losses[:cut], self.smoothing, self.rule)
        return LRFindResult(lrs, losses, smoothed, found, diverged, self.rule)

    def _search(self, data: Any, device: torch.device, world: Any) -> tuple:
        """(rates, raw losses, smoothed losses, diverged) of the ramp."""
        model = self.model
        optimizer = model.optimizer.torch_optimizer or model.optimizer.build(model.parameters())
        step = model._train_step(optimizer, device, world, 0)
        model.train()
        model.optimizer.learning_rate_schedule = None  # the ramp sets the rate (put back after)
        generator = torch.Generator().manual_seed(0)  # its own: the global generators stay put
        lrs, losses, smoothed = [], [], []
        average, best = 0.0, math.inf
        batches = _cycled(data, self.batch_size, generator)
        for index, (xb, yb, wb) in zip(range(self.steps), batches):
            model.optimizer.learning_rate = self.rate(index)
            loss = float(step(xb, yb, wb, 1.0)[1])
            lrs.append(self.rate(index))
            losses.append(loss)
            average = self.smoothing * average + (1 - self.smoothing) * loss
            smoothed.append(average / (1 - self.smoothing ** (index + 1)))
            if not math.isfinite(loss) or (index > 0 and smoothed[-1] > self.diverge * best):
                return lrs, losses, smoothed, True
            best = min(best, smoothed[-1])
        return lrs, losses, smoothed, False
