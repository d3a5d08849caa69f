"""Keras 2's spellings (``lr=``, ``decay=``, ``optimizers.adam(...)``), still accepted so old
scripts run, each with one warning per process that names the Keras 3 spelling."""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import Any

from cnnkit._validation import check_number

_WARNED: set[str] = set()
_MISSING = object()


def warn_once(spelling: str, instead: str, stacklevel: int = 3) -> None:
    """One DeprecationWarning per old spelling per process (a training loop may build many)."""
    if spelling in _WARNED:
        return
    _WARNED.add(spelling)
    warnings.warn(
        f"{spelling} is Keras 2's spelling; write {instead} (Keras 3)",
        DeprecationWarning,
        stacklevel=stacklevel,
    )


def accept_keras2_arguments(init: Callable[..., None]) -> Callable[..., None]:
    """Wrap an optimizer's ``__init__`` so that it also takes Keras 2's ``lr`` (another name
    for ``learning_rate``) and ``decay`` (rate / (1 + decay * iterations)); every other
    argument goes to ``init`` as given, so a misspelt one is still an error."""

    @functools.wraps(init)
    def __init__(self, *args: Any, lr: Any = _MISSING, decay: Any = _MISSING, **kwargs: Any):
        owner = type(self).__name__
        if lr is not _MISSING:
            if args or "learning_rate" in kwargs:
                given = args[0] if args else kwargs["learning_rate"]
                raise ValueError(
                    f"{owner}: give learning_rate or its Keras 2 name lr, not both. "
                    f"Received: learning_rate={given!r}, lr={lr!r}"
                )
            warn_once(f"{owner}(lr=...)", f"{owner}(learning_rate=...)")
            kwargs["learning_rate"] = lr
        init(self, *args, **kwargs)
        if decay is not _MISSING:
            warn_once(
                f"{owner}(decay=...)",
                "learning_rate=optimizers.schedules.InverseTimeDecay(rate, 1, decay)",
            )
            self.decay = check_number(decay, "decay", owner, minimum=0)

    return __init__


def keras2_alias(name: str, cls: type) -> Callable[..., Any]:
    """Keras 2's lower-case name of an optimizer: builds ``cls`` after one warning."""

    def build(*args: Any, **kwargs: Any) -> Any:
        warn_once(f"optimizers.{name}", f"optimizers.{cls.__name__}")
        return cls(*args, **kwargs)

    build.__name__ = build.__qualname__ = name
    build.__doc__ = f"Keras 2's name of :class:`{cls.__name__}` (warns once; use that class)."
    return build
