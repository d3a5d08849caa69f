"""Training recipes on the model: the learning-rate range test and the one-cycle fit."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cnnkit.callbacks import History, OneCycle
from cnnkit.training._lr_curve import LRFindResult
from cnnkit.training._lr_find import LRFinder


class Recipes:
    """``lr_find`` and ``fit_one_cycle``, mixed into Trainer (they need ``fit``)."""

    def lr_find(
        self,
        x: Any,
        y: Any,
        start_lr: float = 1e-7,
        end_lr: float = 10.0,
        steps: int = 100,
        batch_size: int = 32,
        smoothing: float = 0.98,
        diverge: float = 4.0,
        suggestion: str = "steepest",
    ) -> LRFindResult:
        """Find a learning rate: train up to ``steps`` batches while the rate grows
        exponentially from ``start_lr`` to ``end_lr``, then put the model back as it was.

        The data is cycled when it has fewer batches than ``steps``. The loss is smoothed by
        a debiased moving average (``smoothing``); the test stops early when the smoothed
        loss exceeds ``diverge`` times its lowest value, or a loss is NaN or infinite.
        Afterwards the weights, BatchNormalization statistics, optimizer and every random
        generator are exactly as before, so a later ``fit`` is unchanged by the test.

        Args:
            x: Training images (an array or a dataset of (x, y) batches).
            y: Labels (with arrays).
            start_lr: First learning rate.
            end_lr: Last learning rate (reached when all ``steps`` run).
            steps: Most batches to train.
            batch_size: Samples per batch.
            smoothing: Weight of the past in the moving average, in [0, 1).
            diverge: Stop when the smoothed loss exceeds this multiple of its best.
            suggestion: 'steepest' (fastest fall of the smoothed loss) or 'valley'.

        Returns:
            An ``LRFindResult``: ``lrs``, ``losses``, ``smoothed_losses``, ``suggestion``;
            ``result.plot()`` draws the curve.

        Example:
            >>> # result = model.lr_find(x_train, y_train); result.suggestion
        """
        finder = LRFinder(
            self, start_lr, end_lr, steps, batch_size=batch_size, smoothing=smoothing,
            diverge=diverge, suggestion=suggestion,
        )  # fmt: skip
        return finder.run(x, y)

    def fit_one_cycle(
        self,
        x: Any = None,
        y: Any = None,
        epochs: int = 1,
        max_lr: float = 1e-3,
        callbacks: Sequence[Any] | None = None,
        pct_start: float = 0.25,
        anneal: str = "cos",
        cycle_momentum: bool = True,
        **fit_options: Any,
    ) -> History:
        """``fit`` for ``epochs`` epochs under the one-cycle policy peaking at ``max_lr``
        (``cnnkit.callbacks.OneCycle`` with the other arguments; its other settings are
        OneCycleLR's defaults). ``fit_options`` go to ``fit`` unchanged (``batch_size``,
        ``validation_data``, ...).

        Example:
            >>> # model.fit_one_cycle(x_train, y_train, epochs=5, max_lr=0.01)
        """
        schedule = OneCycle(
            max_lr, pct_start=pct_start, anneal=anneal, cycle_momentum=cycle_momentum
        )
        return self.fit(
            x, y, epochs=epochs, callbacks=[schedule, *(callbacks or [])], **fit_options
        )
