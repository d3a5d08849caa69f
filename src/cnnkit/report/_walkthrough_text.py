"""The arithmetic written beside each layer of a walkthrough, as the lecture writes it: the
output size from its formula with the numbers filled in, and the parameter count."""

from __future__ import annotations

from typing import Any

from cnnkit.arithmetic import conv_output_size


def _axis_size(n: int, k: int, s: int, d: int, padding: str, axis: str) -> str:
    """One axis of a window layer's output size, e.g. ``H: ⌊(32 − 1·(5 − 1) − 1) / 1⌋ + 1 = 28``."""
    out = conv_output_size(n, k, s, padding, d)
    if padding == "same":
        return f"{axis}: ⌈n / s⌉ = ⌈{n} / {s}⌉ = {out}"
    return f"{axis}: ⌊(n − d·(k − 1) − 1) / s⌋ + 1 = ⌊({n} − {d}·({k} − 1) − 1) / {s}⌋ + 1 = {out}"


def size_formula(entry: dict[str, Any], input_shape: tuple, output_shape: tuple) -> list[str]:
    """Lines deriving the layer's output shape from its input shape."""
    kind = entry["kind"]
    if kind in ("conv", "pool"):
        kernel = entry["kernel_shape"][:2] if kind == "conv" else entry["pool_size"]
        dilation = entry.get("dilation", [1, 1])
        padding = entry["padding_mode"]
        top, bottom, left, right = entry["padding"]
        lines = [
            _axis_size(input_shape[i], kernel[i], entry["strides"][i], dilation[i], padding, axis)
            for i, axis in enumerate(("H", "W"))
        ]
        lines.append(
            f"padding={padding!r}, strides={tuple(entry['strides'])}"
            + (f", dilation_rate={tuple(dilation)}" if kind == "conv" else "")
            + f": zeros top {top}, bottom {bottom}, left {left}, right {right}"
        )
        if kind == "conv":
            lines.append(f"channels: filters = {output_shape[-1]}")
        return lines
    if kind == "dense":
        return [f"units = {output_shape[-1]}"]
    if len(output_shape) == 1 and len(input_shape) > 1:
        factors = " × ".join(str(size) for size in input_shape)
        return [f"{factors} = {output_shape[0]:,}"]
    shape = " × ".join(str(size) for size in output_shape)
    return [f"{shape} (as its input)" if tuple(input_shape) == tuple(output_shape) else shape]


def parameter_formula(entry: dict[str, Any], layer: Any) -> str:
    """The parameter count as the lecture writes it, e.g. ``6 × (5×5×1) + 6 = 156``."""
    total = int(layer.count_params())
    if entry["kind"] == "conv":
        kh, kw, channels, filters = entry["kernel_shape"]
        bias = f" + {filters}" if entry["bias"] else ""
        return f"{filters} × ({kh}×{kw}×{channels}){bias} = {total:,}"
    if entry["kind"] == "dense":
        inputs, units = entry["kernel_shape"]
        bias = f" + {units}" if entry["bias"] else ""
        return f"{inputs} × {units}{bias} = {total:,}"
    if entry["class_name"] == "BatchNormalization":
        vectors = len(layer.keras_weights())
        return f"{vectors} × {total // max(vectors, 1)} = {total:,}"
    return f"{total:,}"


def annotate(entry: dict[str, Any], layer: Any, input_shape: tuple, output_shape: tuple) -> None:
    """Add the layer's written arithmetic (``size``, ``params_text``) to its page entry."""
    entry["input_shape"] = list(input_shape)
    entry["output_shape"] = list(output_shape)
    entry["size"] = size_formula(entry, input_shape, output_shape)
    entry["params_text"] = parameter_formula(entry, layer)
