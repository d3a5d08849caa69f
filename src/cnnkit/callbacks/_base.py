"""The callback protocol: no-op ``Callback`` base, ``CallbackList`` dispatcher, ``History``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cnnkit.callbacks._checks import check_state

__all__ = ["Callback", "History"]

Logs = dict[str, Any]

HOOKS = (
    "on_train_begin",
    "on_train_end",
    "on_epoch_begin",
    "on_epoch_end",
    "on_train_batch_begin",
    "on_train_batch_end",
    "on_test_begin",
    "on_test_end",
    "on_test_batch_begin",
    "on_test_batch_end",
    "on_predict_begin",
    "on_predict_end",
    "on_predict_batch_begin",
    "on_predict_batch_end",
)


class Callback:
    """Hook into training, evaluation and prediction without touching the loop.

    Every hook does nothing by default; subclass and override the ones you need. Callbacks
    reach the model only through its public Keras-style surface (``stop_training``,
    ``get_weights``/``set_weights``, ``save``/``save_weights``, ``optimizer.learning_rate``),
    so a callback written for Keras works unchanged. Epoch and batch indices are 0-based.

    Example:
        >>> class PrintLoss(Callback):
        ...     def on_epoch_end(self, epoch, logs=None):
        ...         print(f"epoch {epoch + 1}: loss {logs['loss']:.3f}")
        >>> PrintLoss().on_epoch_end(0, {"loss": 0.25})
        epoch 1: loss 0.250
    """

    writes_files = (
        False  # True for callbacks that write files: only rank 0 runs them under torchrun
    )

    def __init__(self) -> None:
        self.params: dict[str, Any] | None = None
        self._model: Any = None

    def set_params(self, params: dict[str, Any]) -> None:
        """Receive the run's parameters: ``{'epochs': E, 'steps': S, 'verbose': V}``."""
        self.params = params

    def set_model(self, model: Any) -> None:
        """Attach the model this callback acts on."""
        self._model = model

    @property
    def model(self) -> Any:
        """The model set by ``set_model`` (``None`` before)."""
        return self._model

    def state_dict(self) -> dict[str, Any]:
        """Return what is needed to resume this callback exactly (nothing for stateless ones)."""
        return {}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore ``state_dict()`` output; call it after ``on_train_begin``, which resets."""
        check_state(type(self).__name__, state, ())

    # Keras 2 spelling: the train-batch hooks forward to these, so old callbacks still run.
    def on_batch_begin(self, batch: int, logs: Logs | None = None) -> None:
        """Called before each training batch (Keras 2 name of ``on_train_batch_begin``)."""

    def on_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        """Called after each training batch (Keras 2 name of ``on_train_batch_end``)."""

    def on_train_begin(self, logs: Logs | None = None) -> None:
        """Called once when ``fit`` starts."""

    def on_train_end(self, logs: Logs | None = None) -> None:
        """Called once when ``fit`` ends, also after an early stop."""

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        """Called at the start of each epoch."""

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        """Called at the end of each epoch with training and ``val_`` metrics."""

    def on_train_batch_begin(self, batch: int, logs: Logs | None = None) -> None:
        """Called before each training batch."""
        self.on_batch_begin(batch, logs)

    def on_train_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        """Called after each training batch with the running metrics."""
        self.on_batch_end(batch, logs)

    def on_test_begin(self, logs: Logs | None = None) -> None:
        """Called when evaluation (or validation inside ``fit``) starts."""

    def on_test_end(self, logs: Logs | None = None) -> None:
        """Called when evaluation (or validation inside ``fit``) ends."""

    def on_test_batch_begin(self, batch: int, logs: Logs | None = None) -> None:
        """Called before each evaluation batch."""

    def on_test_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        """Called after each evaluation batch."""

    def on_predict_begin(self, logs: Logs | None = None) -> None:
        """Called when prediction starts."""

    def on_predict_end(self, logs: Logs | None = None) -> None:
        """Called when prediction ends."""

    def on_predict_batch_begin(self, batch: int, logs: Logs | None = None) -> None:
        """Called before each prediction batch."""

    def on_predict_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        """Called after each prediction batch."""


class History(Callback):
    """Record every epoch's logs; ``fit`` returns it so you can plot learning curves.

    ``history`` maps each log key to its list of per-epoch values and keeps growing across
    ``fit`` calls, while ``epoch`` lists the epoch indices of the latest call (as in Keras).

    Example:
        >>> h = History()
        >>> h.on_train_begin()
        >>> h.on_epoch_end(0, {"loss": 0.5, "val_loss": 0.7})
        >>> h.history
        {'loss': [0.5], 'val_loss': [0.7]}
    """

    def __init__(self) -> None:
        super().__init__()
        self.history: dict[str, list[Any]] = {}
        self.epoch: list[int] = []

    def on_train_begin(self, logs: Logs | None = None) -> None:
        """Start a fresh list of epoch indices (the recorded history is kept)."""
        self.epoch = []

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        """Append this epoch's values."""
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)

    def state_dict(self) -> dict[str, Any]:
        """Return copies of the recorded history and epoch indices."""
        return {
            "history": {k: list(v) for k, v in self.history.items()},
            "epoch": list(self.epoch),
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore a ``state_dict()``."""
        check_state("History", state, ("history", "epoch"))
        history, epochs = state["history"], state["epoch"]
        if not (
            isinstance(history, Mapping)
            and all(isinstance(k, str) and isinstance(v, list) for k, v in history.items())
            and isinstance(epochs, list)
            and all(isinstance(e, int) and not isinstance(e, bool) and e >= 0 for e in epochs)
        ):
            raise ValueError(
                "History.load_state_dict: history must map names to lists of values and epoch "
                f"must list epoch indices. Received: {dict(state)!r:.200}"
            )
        self.history = {k: list(v) for k, v in state["history"].items()}
        self.epoch = list(state["epoch"])
