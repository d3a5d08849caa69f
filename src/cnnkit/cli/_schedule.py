"""The command line's learning-rate recipe: the public one-cycle schedule, rising linearly.

Per-batch rather than per-epoch (``LearningRateScheduler``) because the command line trains
for few epochs, where a smooth schedule is worth about half a point of accuracy. The rate is a
pure function of the step, so a resumed run (``initial_epoch``) continues on the same curve.
"""

from __future__ import annotations

from cnnkit import callbacks

#: Fraction of the steps spent warming up from ``START`` x peak to the peak.
WARMUP = 0.2
START = 0.04
#: The rate ends at ``END`` x peak.
END = 1e-3


class OneCycle(callbacks.OneCycle):
    """``cnnkit.callbacks.OneCycle`` with the command line's settings: a linear rise over the
    first ``WARMUP`` of the run from ``START`` x peak, a cosine fall to ``END`` x peak, the
    optimizer's momentum left alone.

    Args:
        peak: The highest learning rate, reached after the warm-up.
        epochs: Total epochs of the run (the curve spans all of them, also when resumed).
    """

    def __init__(self, peak: float, epochs: int) -> None:
        super().__init__(
            max_lr=peak,
            epochs=epochs,
            pct_start=WARMUP,
            anneal="cos",
            warmup="linear",
            div_factor=1 / START,
            final_div_factor=START / END,
            cycle_momentum=False,
        )
        self.peak = float(peak)
