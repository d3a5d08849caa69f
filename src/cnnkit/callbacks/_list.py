"""CallbackList: the callbacks of one run called as one, with the History and progress bar
Keras always adds."""

from __future__ import annotations

from typing import Any

from cnnkit.callbacks._base import Callback, History, Logs
from cnnkit.callbacks._progbar import ProgbarLogger

__all__ = ["CallbackList"]


def _check_callbacks(callbacks: Any) -> list[Any]:
    """Return ``callbacks`` as a list, rejecting anything that cannot act as a callback."""
    if callbacks is None:
        return []
    if not isinstance(callbacks, (list, tuple)):
        raise TypeError(
            "CallbackList: callbacks must be a list or tuple of callbacks or None. "
            f"Received: callbacks of type {type(callbacks).__name__}"
        )
    for cb in callbacks:
        if not (
            callable(getattr(cb, "set_model", None)) and callable(getattr(cb, "set_params", None))
        ):
            raise TypeError(
                "CallbackList: every callback must be a Callback (have set_model, set_params "
                f"and the on_* hooks). Received: {cb!r}"
            )
    return list(callbacks)


_TRAIN_BATCH_HOOKS = (
    "on_train_batch_begin",
    "on_train_batch_end",
    "on_batch_begin",
    "on_batch_end",
)


def _overrides(callback: Any, hooks: tuple[str, ...]) -> bool:
    """True when ``callback`` has its own version of one of ``hooks`` (a subclass method or,
    as LambdaCallback does, an attribute of the instance); any non-Callback object may."""
    if not isinstance(callback, Callback):
        return True
    instance = vars(callback)
    return any(
        hook in instance or getattr(type(callback), hook) is not getattr(Callback, hook)
        for hook in hooks
    )


class CallbackList(Callback):
    """Dispatch each hook to a list of callbacks, in order, so the loop calls one object.

    Built once per run. With ``add_history`` a ``History`` is appended (unless one is
    already in the list), with ``add_progbar`` a ``ProgbarLogger`` too, as Keras does.
    All callbacks of one hook call share one copy of ``logs``, so a value a callback adds
    (e.g. ``learning_rate``) is seen by the ones after it, ``History`` included.

    Args:
        callbacks: Callbacks to run, or ``None``.
        add_history: Append a ``History`` if none is given.
        add_progbar: Append a ``ProgbarLogger`` if none is given (pass ``verbose != 0``).
        model: Model handed to every callback's ``set_model``.
        **params: Run parameters (``epochs``, ``steps``, ``verbose``) for ``set_params``.

    Example:
        >>> cbs = CallbackList([], add_history=True, epochs=2, steps=1, verbose=0)
        >>> cbs.on_train_begin()
        >>> cbs.on_epoch_end(0, {"loss": 1.0})
        >>> cbs.history.history
        {'loss': [1.0]}
    """

    def __init__(
        self,
        callbacks: list[Any] | tuple[Any, ...] | None = None,
        *,
        add_history: bool = False,
        add_progbar: bool = False,
        model: Any = None,
        **params: Any,
    ) -> None:
        super().__init__()
        self.callbacks = _check_callbacks(callbacks)
        self._add_defaults(add_history, add_progbar)
        if model is not None:
            self.set_model(model)
        if params:
            self.set_params(params)

    def _add_defaults(self, add_history: bool, add_progbar: bool) -> None:
        """Append the History and ProgbarLogger Keras always runs, unless already present."""
        self.history = next((c for c in self.callbacks if isinstance(c, History)), None)
        if self.history is None and add_history:
            self.history = History()
            self.callbacks.append(self.history)
        has_progbar = any(isinstance(c, ProgbarLogger) for c in self.callbacks)
        if add_progbar and not has_progbar:
            self.callbacks.append(ProgbarLogger())

    def set_model(self, model: Any) -> None:
        """Attach ``model`` to every callback."""
        super().set_model(model)
        for cb in self.callbacks:
            cb.set_model(model)

    def set_params(self, params: dict[str, Any]) -> None:
        """Give every callback the run parameters."""
        super().set_params(params)
        for cb in self.callbacks:
            cb.set_params(params)

    def needs_train_batch_hooks(self) -> bool:
        """False when no callback does anything per training batch, so the loop can skip the
        two calls and the logs they take (Keras skips them the same way)."""
        return any(_overrides(cb, _TRAIN_BATCH_HOOKS) for cb in self.callbacks)

    def _call(self, hook: str, *args: Any) -> None:
        """Call ``hook`` on every callback, passing one shared copy of the logs."""
        *index, logs = args
        logs = {} if logs is None else dict(logs)
        for cb in self.callbacks:
            getattr(cb, hook)(*index, logs)

    def on_train_begin(self, logs: Logs | None = None) -> None:
        """Run ``on_train_begin`` on every callback."""
        self._call("on_train_begin", logs)

    def on_train_end(self, logs: Logs | None = None) -> None:
        """Run ``on_train_end`` on every callback."""
        self._call("on_train_end", logs)

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        """Run ``on_epoch_begin`` on every callback."""
        self._call("on_epoch_begin", epoch, logs)

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        """Run ``on_epoch_end`` on every callback."""
        self._call("on_epoch_end", epoch, logs)

    def on_train_batch_begin(self, batch: int, logs: Logs | None = None) -> None:
        """Run ``on_train_batch_begin`` on every callback."""
        self._call("on_train_batch_begin", batch, logs)

    def on_train_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        """Run ``on_train_batch_end`` on every callback."""
        self._call("on_train_batch_end", batch, logs)

    def on_test_begin(self, logs: Logs | None = None) -> None:
        """Run ``on_test_begin`` on every callback."""
        self._call("on_test_begin", logs)

    def on_test_end(self, logs: Logs | None = None) -> None:
        """Run ``on_test_end`` on every callback."""
        self._call("on_test_end", logs)

    def on_test_batch_begin(self, batch: int, logs: Logs | None = None) -> None:
        """Run ``on_test_batch_begin`` on every callback."""
        self._call("on_test_batch_begin", batch, logs)

    def on_test_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        """Run ``on_test_batch_end`` on every callback."""
        self._call("on_test_batch_end", batch, logs)

    def on_predict_begin(self, logs: Logs | None = None) -> None:
        """Run ``on_predict_begin`` on every callback."""
        self._call("on_predict_begin", logs)

    def on_predict_end(self, logs: Logs | None = None) -> None:
        """Run ``on_predict_end`` on every callback."""
        self._call("on_predict_end", logs)

    def on_predict_batch_begin(self, batch: int, logs: Logs | None = None) -> None:
        """Run ``on_predict_batch_begin`` on every callback."""
        self._call("on_predict_batch_begin", batch, logs)

    def on_predict_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        """Run ``on_predict_batch_end`` on every callback."""
        self._call("on_predict_batch_end", batch, logs)

    def on_batch_begin(self, batch: int, logs: Logs | None = None) -> None:
        """Run ``on_batch_begin`` on every callback."""
        self._call("on_batch_begin", batch, logs)

    def on_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        """Run ``on_batch_end`` on every callback."""
        self._call("on_batch_end", batch, logs)
