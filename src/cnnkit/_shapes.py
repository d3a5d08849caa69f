"""Shapes written as Keras writes them, for summaries and plots."""

from __future__ import annotations


def format_shape(shape: tuple | list | dict | None) -> str:
    """``(None, 28, 28, 6)`` for a shape whose batch axis is unknown; a list or dict of shapes
    (a layer with several outputs) as ``[(None, 10), (None, 2)]``, as Keras writes them."""
    if shape is None:
        return "?"
    if isinstance(shape, dict):
        return "{" + ", ".join(f"{key}: {format_shape(s)}" for key, s in shape.items()) + "}"
    if isinstance(shape, list):
        return "[" + ", ".join(format_shape(s) for s in shape) + "]"
    return (
        "("
        + ", ".join("None" if s is None else str(s) for s in shape)
        + ("," if len(shape) == 1 else "")
        + ")"
    )
