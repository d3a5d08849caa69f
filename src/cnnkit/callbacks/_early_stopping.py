"""EarlyStopping: stop training once the monitored metric stops improving (Keras 3 decisions)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from cnnkit._validation import check_int, check_number
from cnnkit.callbacks._base import Callback, Logs
from cnnkit.callbacks._checks import check_state, require_model
from cnnkit.callbacks._monitor import Monitor

__all__ = ["EarlyStopping", "StopState", "decide_early_stop"]


@dataclass(frozen=True)
class StopState:
    """What early stopping remembers between epochs (``best`` is None before the first)."""

    best: float | None = None
    best_epoch: int = 0
    wait: int = 0
    stopped_epoch: int = 0


@dataclass(frozen=True)
class StopDecision:
    """The outcome of one epoch: the new state, whether it improved, whether to stop."""

    state: StopState
    improved: bool = False
    stop: bool = False


def decide_early_stop(
    state: StopState,
    epoch: int,
    current: float | None,
    monitor: Monitor,
    *,
    patience: int,
    baseline: float | None = None,
    start_from_epoch: int = 0,
) -> StopDecision:
    """Return Keras 3's early-stopping decision for one epoch, without side effects.

    ``wait`` counts epochs since the last improvement that also beat ``baseline``; training
    stops once ``wait >= patience`` (never at epoch 0). Epochs before ``start_from_epoch``
    and epochs without a value are ignored.

    Example:
        >>> m = Monitor("EarlyStopping", "loss", "auto")
        >>> s = decide_early_stop(StopState(), 0, 1.0, m, patience=1).state
        >>> decide_early_stop(s, 1, 1.5, m, patience=1).stop
        True
    """
    if current is None or epoch < start_from_epoch:
        return StopDecision(state)
    wait = state.wait + 1
    if monitor.is_improvement(current, state.best):
        beats_baseline = baseline is None or monitor.is_improvement(current, baseline)
        new = dataclasses.replace(
            state, best=current, best_epoch=epoch, wait=0 if beats_baseline else wait
        )
        return StopDecision(new, improved=True)
    if wait >= patience and epoch > 0:
        return StopDecision(dataclasses.replace(state, wait=wait, stopped_epoch=epoch), stop=True)
    return StopDecision(dataclasses.replace(state, wait=wait))


def _copy_weights(weights: list[Any]) -> list[np.ndarray]:
    """Copy weights so later training steps cannot change the snapshot."""
    return [np.array(w, copy=True) for w in weights]


class EarlyStopping(Callback):
    """Stop training when the monitored metric has stopped improving, as Keras 3 does.

    Decisions (stopping epoch, ``stopped_epoch``, ``best``, ``wait``, restored weights) are
    identical to ``keras.callbacks.EarlyStopping`` for any sequence of monitored values.

    Args:
        monitor: Log key to watch.
        min_delta: Changes smaller than this do not count as improvement.
        patience: Epochs without improvement before stopping.
        verbose: 1 prints a line when stopping and when restoring weights.
        mode: 'auto' (infer from the name), 'min' or 'max'.
        baseline: Value the metric must beat for ``wait`` to reset.
        restore_best_weights: At the end of training, load the weights of the best epoch.
        start_from_epoch: Warm-up epochs that are not monitored.

    Example:
        >>> stop = EarlyStopping(monitor="val_loss", patience=3, restore_best_weights=True)
        >>> # model.fit(x, y, validation_split=0.2, epochs=100, callbacks=[stop])
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        min_delta: float = 0,
        patience: int = 0,
        verbose: int = 0,
        mode: str = "auto",
        baseline: float | None = None,
        restore_best_weights: bool = False,
        start_from_epoch: int = 0,
    ) -> None:
        super().__init__()
        self._monitor = Monitor("EarlyStopping", monitor, mode, min_delta)
        self.patience = check_int(patience, "patience", "EarlyStopping", minimum=0)
        self.start_from_epoch = check_int(
            start_from_epoch, "start_from_epoch", "EarlyStopping", minimum=0
        )
        self.baseline = check_number(
            baseline, "baseline", "EarlyStopping", finite=False, optional=True
        )
        self.verbose = check_int(verbose, "verbose", "EarlyStopping", minimum=0)
        self.restore_best_weights = bool(restore_best_weights)
        self._state = StopState()
        self.best_weights: list[np.ndarray] | None = None

    monitor = property(lambda self: self._monitor.monitor, doc="The watched log key.")
    mode = property(lambda self: self._monitor.mode, doc="'auto', 'min' or 'max'.")
    min_delta = property(lambda self: self._monitor.min_delta, doc="Minimum improvement.")
    best = property(lambda self: self._state.best, doc="Best monitored value so far.")
    best_epoch = property(lambda self: self._state.best_epoch, doc="Epoch of ``best``.")
    wait = property(lambda self: self._state.wait, doc="Epochs since the last improvement.")
    stopped_epoch = property(lambda self: self._state.stopped_epoch, doc="Epoch it stopped.")

    def on_train_begin(self, logs: Logs | None = None) -> None:
        """Reset, so one instance can serve several ``fit`` calls."""
        self._state = StopState()
        self.best_weights = None

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        """Update the state and set ``model.stop_training`` when patience runs out."""
        current = self._monitor.get(logs, "early stopping ignores this epoch")
        if current is None or epoch < self.start_from_epoch:
            return
        state = self._state
        if self.restore_best_weights and self.best_weights is None:
            # As Keras: with no snapshot yet, the current weights are the best known ones.
            self.best_weights = self._weights_now()
            state = dataclasses.replace(state, best_epoch=epoch)
        decision = decide_early_stop(
            state,
            epoch,
            current,
            self._monitor,
            patience=self.patience,
            baseline=self.baseline,
            start_from_epoch=self.start_from_epoch,
        )
        self._state = decision.state
        if decision.improved and self.restore_best_weights:
            self.best_weights = self._weights_now()
        if decision.stop:
            require_model("EarlyStopping", self.model).stop_training = True

    def _weights_now(self) -> list[np.ndarray]:
        """A copy of the model's current weights (the snapshot restore_best_weights keeps)."""
        return _copy_weights(require_model("EarlyStopping", self.model).get_weights())

    def on_train_end(self, logs: Logs | None = None) -> None:
        """Report the stop and restore the best weights if asked to."""
        if self.stopped_epoch > 0 and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print(
                    "Restoring model weights from the end of the best epoch: "
                    f"{self.best_epoch + 1}."
                )
            self.model.set_weights(_copy_weights(self.best_weights))

    def state_dict(self) -> dict[str, Any]:
        """Return the counters, best value and best-weights snapshot for an exact resume."""
        weights = None if self.best_weights is None else _copy_weights(self.best_weights)
        return {**dataclasses.asdict(self._state), "best_weights": weights}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore a ``state_dict()`` (after ``on_train_begin``)."""
        fields = [f.name for f in dataclasses.fields(StopState)]
        kinds = {"best": "number?", "best_epoch": "int", "wait": "int", "stopped_epoch": "int"}
        check_state("EarlyStopping", state, [*fields, "best_weights"], kinds)
        weights = state["best_weights"]
        if weights is not None and self.model is not None:
            shapes = [np.shape(w) for w in self.model.get_weights()]
            if not isinstance(weights, list) or [np.shape(w) for w in weights] != shapes:
                raise ValueError(
                    "EarlyStopping.load_state_dict: best_weights must be None or the model's "
                    f"{len(shapes)} weight arrays, of shapes {shapes}"
                )
        self._state = StopState(**{k: state[k] for k in fields})
        self.best_weights = None if weights is None else _copy_weights(weights)
