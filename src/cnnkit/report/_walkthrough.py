"""``walkthrough(model, image, path)``: one self-contained page that follows one image through
every layer, with the lecture's arithmetic beside each layer and any neuron's computation one
click away (window, kernel, products, sum plus bias, activation)."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from cnnkit._arrays import to_numpy
from cnnkit._files import atomic_write_bytes
from cnnkit._validation import check_int
from cnnkit.inspect import check_model
from cnnkit.report._html import escape
from cnnkit.report._walkthrough_data import collect

OWNER = "walkthrough"


def walkthrough(
    model: Any,
    image: Any,
    path: str | os.PathLike,
    batch_size: int = 32,
    *,
    class_names: Sequence[str] | None = None,
    title: str | None = None,
    caption: str = "",
) -> Path:
    """Write one HTML page that shows what every layer computes for ``image``, to check the
    lecture's arithmetic on a real network: click a neuron of any map to see its computation.

    The page opens anywhere (no network; its script and data are inline). Beside each layer:
    its output size from the formula with the numbers filled in, its parameter count written
    as ``6 × (5×5×1) + 6 = 156``, and its activation memory for a batch size the reader picks.
    Clicking a convolution neuron shows its input window (padding drawn), the kernel, the
    element-wise products and the sum plus bias, then the activation; a pooling neuron its
    window and chosen value; a Dense unit its largest contributions (and, after a softmax, the
    probabilities). The embedded numbers are the model's float32 values, stored exactly.

    Args:
        model: a built ``cnnkit.Sequential`` (or functional model without branches).
        image: one image (height, width[, channels]) scaled as the model takes it, or a batch
            of one.
        path: the ``.html`` file to write (folders are created).
        batch_size: the batch size the page first uses for activation memory.
        class_names: names of the output units (default "0", "1", ...).
        title: the page title (default names the model).
        caption: a line under the title (e.g. the image's true class).

    Returns:
        The path written (atomically).

    Example:
        >>> walkthrough(cnnkit.zoo.get("lenet5"), np.zeros((32, 32, 1)), "lenet.html")
    """
    check_model(model, OWNER)
    batch = _image(model, image)
    batch_size = check_int(batch_size, "batch_size", OWNER, minimum=1)
    target = _target(path)
    data = collect(model, batch, OWNER)
    units = data["layers"][-1]["output_shape"] if data["layers"] else [0]
    data["class_names"] = _names(class_names, units[-1] if len(units) == 1 else 0)
    name = getattr(model, "name", type(model).__name__)
    text = render(data, title or f"Walkthrough: {name}", caption, batch_size)
    try:
        return atomic_write_bytes(target, text.encode("utf-8"))
    except OSError as error:
        raise ValueError(f"{OWNER}: path {str(target)!r} cannot be written: {error}") from error


def _image(model: Any, image: Any) -> np.ndarray:
    """``image`` as a float32 batch of one in the model's input shape, or a ValueError."""
    array = to_numpy(image, "image", OWNER)
    expected = tuple(model.input_shape[1:])
    candidates = [array.shape, array.shape[1:] if array.shape[:1] == (1,) else None]
    if expected[-1:] == (1,):
        candidates += [(*shape, 1) for shape in list(candidates) if shape is not None]
    for shape in candidates:
        if shape is not None and len(shape) == len(expected):
            if all(e is None or e == s for e, s in zip(expected, shape)):
                return array.reshape((1, *shape)).astype(np.float32)
    wanted = "(" + ", ".join(str(size) for size in expected) + ")"
    raise ValueError(
        f"{OWNER}: image must be one image of shape {wanted} (or a batch of one) for this model; "
        f"received shape {array.shape}"
    )


def _target(path: Any) -> Path:
    """The page's path, checked before any work: a writable file location."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{OWNER}: path must be a file path (str or Path). Received: {path!r}")
    target = Path(path)
    if target.is_dir():
        raise ValueError(f"{OWNER}: path {str(target)!r} is a folder; give an .html file name")
    existing = target.parent
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        raise ValueError(
            f"{OWNER}: path {str(target)!r} cannot be written: {str(existing)!r} is not a "
            "writable folder"
        )
    return target


def _names(class_names: Any, units: int) -> list[str]:
    if class_names is None:
        return [str(i) for i in range(units)]
    if isinstance(class_names, str) or not isinstance(class_names, Sequence):
        raise TypeError(f"{OWNER}: class_names must be a list of names. Received: {class_names!r}")
    if units and len(class_names) != units:
        raise ValueError(
            f"{OWNER}: class_names has {len(class_names)} names but the model has {units} outputs"
        )
    return [str(name) for name in class_names]


def _asset(name: str) -> str:
    return resources.files("cnnkit.report").joinpath(name).read_text(encoding="utf-8")


def _layer_html(index: int, entry: dict[str, Any]) -> str:
    """A layer's heading and written arithmetic; the script adds its maps after it."""
    size = "<br>".join(escape(line) for line in entry["size"])
    shape = " × ".join(str(s) for s in entry["output_shape"])
    activation = entry["activation"]
    return (
        f'<section class="layer" id="layer-{index}" data-index="{index}">'
        f"<h2>{index + 1}. {escape(entry['name'])} <small>({escape(entry['class_name'])}"
        f"{', ' + escape(activation) if activation != 'linear' else ''})</small></h2>"
        '<table class="arith"><tbody>'
        f"<tr><th>output size</th><td>{size}</td></tr>"
        f"<tr><th>output shape</th><td>{escape(shape)}</td></tr>"
        f"<tr><th>parameters</th><td>{escape(entry['params_text'])}</td></tr>"
        f'<tr><th>activation memory</th><td class="mem" data-bytes="{entry["bytes_per_image"]}">'
        f"{entry['bytes_per_image']:,} B per image</td></tr>"
        f'</tbody></table><div class="maps"></div></section>'
    )


def render(data: dict[str, Any], title: str, caption: str, batch_size: int) -> str:
    """The whole page: the template with the layers, the data JSON and the script inlined."""
    payload = json.dumps(data, separators=(",", ":")).replace("</", "<\\/")
    layers = "\n".join(_layer_html(i, entry) for i, entry in enumerate(data["layers"]))
    replacements = {
        "{{title}}": escape(title),
        "{{caption}}": escape(caption),
        "{{batch_size}}": str(batch_size),
        "{{layers}}": layers,
        "{{data}}": payload,
        "{{script}}": _asset("walkthrough.js").replace("</", "<\\/"),
    }
    # one pass: every placeholder filled (the title appears twice), and nothing a value brings
    # (a class name such as '{{script}}') is read as a placeholder
    return re.sub(
        r"\{\{\w+\}\}", lambda m: replacements.get(m[0], m[0]), _asset("walkthrough.html")
    )
