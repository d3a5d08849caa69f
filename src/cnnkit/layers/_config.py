"""Turning a layer's ``get_config()`` back into constructor arguments: the named objects it
holds (initializers, regularizers, constraints) are rebuilt from their ``class_name``."""

from __future__ import annotations

from typing import Any

from cnnkit import constraints, initializers, regularizers


def decoded(key: str, value: Any) -> Any:
    """The constructor argument ``key`` for the saved ``value`` (objects by name only)."""
    if key.endswith("initializer") and isinstance(value, dict):
        return initializers.deserialize(value)
    if key.endswith("initializer") and isinstance(value, str):
        return initializers.get(value)
    if isinstance(value, dict) and "class_name" in value:
        if key.endswith("regularizer"):
            return regularizers.deserialize(value)
        if key.endswith("constraint"):
            return constraints.deserialize(value)
    return value


def decoded_arguments(config: dict[str, Any]) -> dict[str, Any]:
    """Every entry of a layer's config as a constructor argument."""
    return {key: decoded(key, value) for key, value in config.items()}
