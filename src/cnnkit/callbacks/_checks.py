"""State-dict and model checks shared by the callbacks, so every bad input gets the same clear message."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from numbers import Integral, Real
from typing import Any

__all__ = ["check_state", "require_model"]


def check_state(
    owner: str,
    state: Mapping[str, Any],
    keys: Iterable[str],
    kinds: Mapping[str, str] | None = None,
) -> None:
    """Reject a state dict whose keys differ from what ``owner.state_dict()`` produces, or
    whose values are not of their ``kinds`` ('int': an int >= 0, 'number'; a trailing '?'
    also allows None): a backup may have been edited."""
    if not isinstance(state, Mapping):
        raise TypeError(
            f"{owner}.load_state_dict: state must be a dict. Received: {type(state).__name__}"
        )
    expected, given = set(keys), set(state)
    if given != expected:
        raise ValueError(
            f"{owner}.load_state_dict: state must have exactly the keys {sorted(expected)}. "
            f"Received: {sorted(given)}"
        )
    for name, kind in (kinds or {}).items():
        value = state[name]
        if value is None and kind.endswith("?"):
            continue
        if kind.rstrip("?") == "int":
            fits = isinstance(value, Integral) and not isinstance(value, bool) and value >= 0
        else:
            fits = isinstance(value, Real) and not isinstance(value, bool)
        if not fits:
            accepted = "an int >= 0" if kind.startswith("int") else "a number"
            accepted += " or None" if kind.endswith("?") else ""
            raise ValueError(
                f"{owner}.load_state_dict: {name} must be {accepted}. Received: {name}={value!r:.100}"
            )


def require_model(owner: str, model: Any) -> Any:
    """Return ``model``, or raise a ValueError saying how a callback gets one."""
    if model is None:
        raise ValueError(
            f"{owner}: no model is set. Pass the callback to fit(..., callbacks=[...]) or call "
            "set_model(model) before its hooks"
        )
    return model
