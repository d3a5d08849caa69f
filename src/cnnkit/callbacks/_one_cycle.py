"""The one-cycle policy (Smith, 2018): the learning rate rises to a peak, then anneals far below
where it started, while the momentum moves the opposite way; set before every batch.

The values follow ``torch.optim.lr_scheduler.OneCycleLR`` (two phases) step for step. The
rate is a pure function of the step, and the step is counted from the epoch and the batch
index, so a resumed run (``initial_epoch``, BackupAndRestore) continues on the same curve.
"""

from __future__ import annotations

import math
from typing import Any

from cnnkit._validation import check_bool, check_choice, check_int, check_number
from cnnkit.callbacks._base import Callback, Logs
from cnnkit.callbacks._lr import get_learning_rate, set_learning_rate

__all__ = ["OneCycle", "one_cycle_values"]


def _anneal(start: float, end: float, fraction: float, anneal: str) -> float:
    """The value ``fraction`` (0 to 1) of the way from ``start`` to ``end``."""
    if anneal == "cos":
        return end + (start - end) / 2.0 * (math.cos(math.pi * fraction) + 1)
    return (end - start) * fraction + start


def one_cycle_values(
    step: int,
    total_steps: int,
    max_lr: float,
    pct_start: float = 0.25,
    anneal: str = "cos",
    div_factor: float = 25.0,
    final_div_factor: float = 1e4,
    momentum: tuple[float, float] = (0.85, 0.95),
    warmup: str | None = None,
) -> tuple[float, float]:
    """(learning rate, momentum) of 0-based ``step`` out of ``total_steps``.

    Phase 1 (the first ``pct_start`` of the steps) goes from ``max_lr / div_factor`` to
    ``max_lr`` and the momentum from its maximum to its base, shaped by ``warmup`` ('cos' or
    'linear'; ``None``: as ``anneal``); phase 2 goes on to
    ``max_lr / div_factor / final_div_factor`` and back to the maximum momentum.

    Example:
        >>> one_cycle_values(0, 100, 1.0)[0], one_cycle_values(99, 100, 1.0)[0]
        (0.04, 4e-06)
    """
    if not 0 <= step < total_steps:
        raise ValueError(
            f"OneCycle: step {step} is outside the cycle of total_steps={total_steps} steps "
            "(0 to total_steps - 1); give total_steps (or epochs and steps_per_epoch) covering "
            "the whole fit"
        )
    initial = max_lr / div_factor
    low, high = momentum
    rise_end = float(pct_start * total_steps) - 1  # OneCycleLR's end of phase 1
    if step <= rise_end:
        begin, end, rates, momenta = 0.0, rise_end, (initial, max_lr), (high, low)
    else:
        begin, end = rise_end, total_steps - 1.0
        rates, momenta = (max_lr, initial / final_div_factor), (low, high)
    fraction = (step - begin) / (end - begin) if end != begin else 1.0
    shape = (warmup or anneal) if step <= rise_end else anneal
    return _anneal(*rates, fraction, shape), _anneal(*momenta, fraction, shape)


class OneCycle(Callback):
    """Set the learning rate (and momentum) of every training batch by the one-cycle policy.

    Before each batch the optimizer's ``learning_rate`` becomes :func:`one_cycle_values` of
    the step; with ``cycle_momentum`` the momentum of SGD/RMSprop (or Adam's ``beta_1``)
    moves between ``max_momentum`` and ``base_momentum``, as ``OneCycleLR`` does. The length
    of the cycle is ``total_steps``, or ``epochs * steps_per_epoch``, or, when neither is
    given, the fit's own epochs times its batches per epoch. Adds ``learning_rate`` to the
    epoch logs (the last batch's rate).

    Args:
        max_lr: The peak learning rate.
        total_steps: Steps in the cycle (optional).
        epochs: Epochs in the cycle (with ``steps_per_epoch``; optional).
        steps_per_epoch: Batches per epoch (optional: the fit's).
        pct_start: Fraction of the cycle spent rising, in (0, 1) (fastai's 0.25 by default;
            OneCycleLR's is 0.3).
        anneal: 'cos' or 'linear': the shape of the fall (and of the rise unless ``warmup``).
        warmup: 'cos' or 'linear': the shape of the rise (``None``: as ``anneal``; OneCycleLR
            has one shape for both, the command line's recipe rises linearly).
        div_factor: The first rate is ``max_lr / div_factor``.
        final_div_factor: The last rate is ``max_lr / div_factor / final_div_factor``.
        cycle_momentum: Move the momentum inversely to the rate.
        base_momentum: The momentum at the peak rate.
        max_momentum: The momentum at the start and the end.

    Example:
        >>> schedule = OneCycle(max_lr=0.01)
        >>> # model.fit(x, y, epochs=5, callbacks=[schedule])
    """

    def __init__(
        self,
        max_lr: float,
        total_steps: int | None = None,
        epochs: int | None = None,
        steps_per_epoch: int | None = None,
        pct_start: float = 0.25,
        anneal: str = "cos",
        div_factor: float = 25.0,
        final_div_factor: float = 1e4,
        cycle_momentum: bool = True,
        base_momentum: float = 0.85,
        max_momentum: float = 0.95,
        warmup: str | None = None,
    ) -> None:
        super().__init__()
        owner = "OneCycle"
        self.max_lr = check_number(max_lr, "max_lr", owner, minimum=0, exclusive_minimum=True)
        self.total_steps = check_int(total_steps, "total_steps", owner, minimum=1, optional=True)
        self.epochs = check_int(epochs, "epochs", owner, minimum=1, optional=True)
        self.steps_per_epoch = check_int(
            steps_per_epoch, "steps_per_epoch", owner, minimum=1, optional=True
        )
        self.pct_start = check_number(
            pct_start, "pct_start", owner, minimum=0, maximum=1, exclusive_minimum=True,
            exclusive_maximum=True,
        )  # fmt: skip
        self.anneal = check_choice(anneal, "anneal", owner, choices=("cos", "linear"))
        self.warmup = (
            None
            if warmup is None
            else check_choice(warmup, "warmup", owner, choices=("cos", "linear"))
        )
        self.div_factor = check_number(
            div_factor, "div_factor", owner, minimum=0, exclusive_minimum=True
        )
        self.final_div_factor = check_number(
            final_div_factor, "final_div_factor", owner, minimum=0, exclusive_minimum=True
        )
        self.cycle_momentum = check_bool(cycle_momentum, "cycle_momentum", owner)
        self.base_momentum = check_number(
            base_momentum, "base_momentum", owner, minimum=0, maximum=1
        )
        self.max_momentum = check_number(max_momentum, "max_momentum", owner, minimum=0, maximum=1)
        if self.total_steps is not None and self.epochs is not None:
            raise ValueError(
                "OneCycle: give total_steps or epochs (with steps_per_epoch), not both. "
                f"Received: total_steps={total_steps}, epochs={epochs}"
            )
        self._epoch = 0

    def _steps_per_epoch(self) -> int:
        return self.steps_per_epoch or max(int((self.params or {}).get("steps") or 1), 1)

    def cycle_length(self) -> int:
        """The number of steps in the cycle (once the fit's parameters are known)."""
        if self.total_steps is not None:
            return self.total_steps
        epochs = self.epochs or int((self.params or {}).get("epochs") or 1)
        return epochs * self._steps_per_epoch()

    def values(self, step: int) -> tuple[float, float]:
        """(learning rate, momentum) of 0-based ``step``."""
        return one_cycle_values(
            step, self.cycle_length(), self.max_lr, self.pct_start, self.anneal,
            self.div_factor, self.final_div_factor, (self.base_momentum, self.max_momentum),
            self.warmup,
        )  # fmt: skip

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        """Remember the epoch: the step is counted from it, so resuming needs no state."""
        self._epoch = epoch

    def on_train_batch_begin(self, batch: int, logs: Logs | None = None) -> None:
        """Set this step's rate (and momentum)."""
        rate, momentum = self.values(self._epoch * self._steps_per_epoch() + batch)
        set_learning_rate(self.model, rate, "OneCycle")
        if self.cycle_momentum:
            set_momentum(self.model, momentum)

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        """Log the last rate used, for the CSV history and TensorBoard."""
        if logs is not None:
            logs["learning_rate"] = get_learning_rate(self.model, "OneCycle")


def set_momentum(model: Any, value: float) -> None:
    """Set SGD/RMSprop's ``momentum`` or Adam's ``beta_1`` in every parameter group."""
    optimizer = getattr(getattr(model, "optimizer", None), "torch_optimizer", None)
    groups = getattr(optimizer, "param_groups", None)
    if not groups or not ("momentum" in groups[0] or "betas" in groups[0]):
        raise ValueError(
            "OneCycle: cycle_momentum=True needs an optimizer with momentum or beta_1 (SGD, "
            f"RMSprop, Adam, AdamW). Received: optimizer={getattr(model, 'optimizer', None)!r}; "
            "pass cycle_momentum=False"
        )
    for group in groups:
        if "betas" in group:
            group["betas"] = (value, *group["betas"][1:])
        else:
            group["momentum"] = value
