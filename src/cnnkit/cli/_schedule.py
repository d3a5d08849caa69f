"""A one-cycle learning rate set before every batch: linear warm-up, then cosine decay.

Per-batch rather than per-epoch (``LearningRateScheduler``) because the command line trains
for few epochs, where a smooth schedule is worth about half a point of accuracy. The rate is a
pure function of the step, so a resumed run (``initial_epoch``) continues on the same curve.
"""

from __future__ import annotations

import math

from cnnkit.callbacks import Callback

#: Fraction of the steps spent warming up from ``START`` x peak to the peak.
WARMUP = 0.2
START = 0.04
#: The rate ends at ``END`` x peak.
END = 1e-3


def one_cycle(progress: float, peak: float) -> float:
    """The learning rate at ``progress`` (0 at the first step, 1 after the last).

    Example:
        >>> one_cycle(0.2, 1.0), one_cycle(1.0, 1.0)
        (1.0, 0.001)
    """
    progress = min(max(progress, 0.0), 1.0)
    if progress < WARMUP:
        return peak * (START + (1 - START) * progress / WARMUP)
    decay = (progress - WARMUP) / (1 - WARMUP)
    return peak * (END + (1 - END) * 0.5 * (1 + math.cos(math.pi * decay)))


class OneCycle(Callback):
    """Set ``model.optimizer.learning_rate`` from :func:`one_cycle` before each training batch.

    Args:
        peak: The highest learning rate, reached after the warm-up.
        epochs: Total epochs of the run (the curve spans all of them, also when resumed).
    """

    def __init__(self, peak: float, epochs: int) -> None:
        super().__init__()
        self.peak, self.epochs = float(peak), int(epochs)
        self._epoch = 0

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        """Remember the epoch: the step is counted from it, so resuming needs no state."""
        self._epoch = epoch

    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        """Set this step's rate."""
        steps = max(int((self.params or {}).get("steps") or 1), 1)
        progress = (self._epoch * steps + batch) / (self.epochs * steps)
        self.model.optimizer.learning_rate = one_cycle(progress, self.peak)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        """Log the last rate used, for the CSV history and TensorBoard."""
        if logs is not None:
            logs["learning_rate"] = float(self.model.optimizer.learning_rate)
