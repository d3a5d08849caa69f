"""Keras' ``plot_model`` and ``model_to_dot`` for cnnkit models: the picture is drawn with
matplotlib, so neither pydot nor the graphviz program is needed; the DOT text is written for
those who want graphviz's own layout."""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

from cnnkit._files import atomic_write_bytes
from cnnkit._validation import check_bool, check_choice, check_positive_int
from cnnkit.models import Model
from cnnkit.plots._model_graph import Options, build_diagram, dot_text
from cnnkit.plots._model_layout import draw

RANKDIRS = ("TB", "LR", "BT", "RL")
SPLINES = ("ortho", "curved", "polyline", "spline", "line", "true", "false", "none")
#: File formats by extension; no extension means PNG, as in Keras.
FORMATS = {"png": "png", "jpg": "jpeg", "jpeg": "jpeg", "svg": "svg", "pdf": "pdf"}
MAX_PIXELS = 60_000  # per side; matplotlib's Agg renderer refuses images over 2**16


def _checked(
    function: str,
    model: Any,
    flags: dict[str, Any],
    rankdir: Any,
    dpi: Any,
    splines: Any,
) -> Options:
    """Validate the arguments both functions share; return the box options."""
    if not isinstance(model, Model):
        raise TypeError(
            f"{function}: model must be a cnnkit model (cnnkit.Sequential or cnnkit.Model). "
            f"Received: model={model!r:.100} (type {type(model).__name__})"
        )
    if not model.built:
        raise ValueError(
            f"{function}: model {model.name!r} has not yet been built, so its layers are not "
            "connected. Build the model first by calling `build()`, by giving the first layer "
            "an input shape (cnnkit.Input(shape=...)), or by calling the model on a batch of data"
        )
    for name, value in flags.items():
        check_bool(value, name, function)
    check_choice(rankdir, "rankdir", function, choices=RANKDIRS, lower=False)
    check_positive_int(dpi, "dpi", function)
    check_choice(splines, "splines", function, choices=SPLINES, lower=False)
    return Options(
        show_shapes=flags["show_shapes"],
        show_dtype=flags["show_dtype"],
        show_layer_names=flags["show_layer_names"],
        show_layer_activations=flags["show_layer_activations"],
        show_trainable=flags["show_trainable"],
    )


def model_to_dot(
    model: Model,
    show_shapes: bool = False,
    show_dtype: bool = False,
    show_layer_names: bool = True,
    rankdir: str = "TB",
    expand_nested: bool = False,
    dpi: int = 200,
    show_layer_activations: bool = False,
    show_trainable: bool = False,
    splines: str = "ortho",
) -> str:
    """The model's graph in the DOT language (a string), with the labels and edges of Keras'
    ``keras.utils.model_to_dot``; render it with graphviz (``dot -Tpng``) or ``pydot``.

    Args:
        model: a built cnnkit model. A subclassed model is a single box.
        show_shapes: show each layer's input and output shapes.
        show_dtype: show each layer's dtype.
        show_layer_names: show each layer's name beside its type.
        show_layer_activations: show the activation of layers that have one.
        show_trainable: show whether each layer is trainable.
        rankdir: "TB" (top to bottom), "LR" (left to right), "BT" or "RL".
        expand_nested: draw nested models' layers inside a dashed frame.
        dpi: resolution graphviz renders at.
        splines: how graphviz draws edges ("ortho", "curved", "polyline", "spline", "line").

    Example:
        >>> import cnnkit
        >>> model = cnnkit.Sequential([cnnkit.Input((4,)), cnnkit.layers.Dense(2)])
        >>> cnnkit.utils.model_to_dot(model).splitlines()[0]
        'digraph G {'
    """
    flags = {
        "show_shapes": show_shapes,
        "show_dtype": show_dtype,
        "show_layer_names": show_layer_names,
        "expand_nested": expand_nested,
        "show_layer_activations": show_layer_activations,
        "show_trainable": show_trainable,
    }
    options = _checked("model_to_dot", model, flags, rankdir, dpi, splines)
    diagram = build_diagram(model, options, expand_nested)
    return dot_text(diagram, options, rankdir, dpi, splines)


def _target(to_file: Any) -> tuple[Path, str]:
    """The file to write and its format (from the extension; none means PNG)."""
    if not isinstance(to_file, (str, os.PathLike)):
        raise TypeError(
            "plot_model: to_file must be a file path (str or os.PathLike). "
            f"Received: to_file={to_file!r:.100}"
        )
    path = Path(to_file)
    extension = path.suffix[1:].lower() or "png"
    if extension not in FORMATS:
        raise ValueError(
            f"plot_model: to_file must end in one of {', '.join('.' + e for e in FORMATS)}. "
            f"Received: to_file={str(to_file)!r}"
        )
    folder = path.parent
    if not folder.is_dir():
        raise ValueError(
            f"plot_model: the folder of to_file does not exist: {str(folder)!r}. Received: "
            f"to_file={str(to_file)!r}; create the folder first or choose another path"
        )
    return path, FORMATS[extension]


def _notebook_image(data: bytes, file_format: str) -> Any:
    """An IPython Image of the file's bytes, for in-line display, when IPython is installed."""
    if file_format not in ("png", "jpeg"):
        return None
    try:
        from IPython import display
    except ImportError:
        return None
    return display.Image(data=data, format=file_format)


def plot_model(
    model: Model,
    to_file: str | os.PathLike = "model.png",
    show_shapes: bool = False,
    show_dtype: bool = False,
    show_layer_names: bool = False,
    rankdir: str = "TB",
    expand_nested: bool = False,
    dpi: int = 200,
    show_layer_activations: bool = False,
    show_trainable: bool = False,
    splines: str = "ortho",
) -> Any:
    """Draw the model's layers and how they connect to ``to_file`` (PNG, JPEG, SVG or PDF by
    its extension), as Keras' ``keras.utils.plot_model`` does, without graphviz.

    Each layer is a box titled with its type ("name (Type)" with ``show_layer_names``, off by
    default as in Keras 3); ``show_*`` add its input and output shapes,
    output dtype, activation and whether it is trainable. Layers are placed by depth, branches
    side by side; arrows follow the graph. The file is written atomically.

    Args:
        model: a built cnnkit model.
        to_file: where to write the picture; its folder must exist.
        rankdir: "TB" (top to bottom), "LR" (left to right), "BT" or "RL".
        expand_nested: draw nested models' layers inside a dashed frame.
        dpi: resolution of PNG and JPEG files (lowered for huge models to fit 60,000 pixels).
        splines: accepted for Keras compatibility; edges are drawn straight.

    Returns:
        An ``IPython.display.Image`` of a PNG or JPEG file when IPython is installed (it shows
        in a notebook), else None.

    Example:
        >>> import cnnkit, tempfile, os
        >>> model = cnnkit.Sequential([cnnkit.Input((4,)), cnnkit.layers.Dense(2)])
        >>> path = os.path.join(tempfile.mkdtemp(), "model.svg")
        >>> cnnkit.utils.plot_model(model, to_file=path, show_shapes=True)
    """
    flags = {
        "show_shapes": show_shapes,
        "show_dtype": show_dtype,
        "show_layer_names": show_layer_names,
        "expand_nested": expand_nested,
        "show_layer_activations": show_layer_activations,
        "show_trainable": show_trainable,
    }
    options = _checked("plot_model", model, flags, rankdir, dpi, splines)
    path, file_format = _target(to_file)
    figure = draw(build_diagram(model, options, expand_nested), rankdir)
    width, height = figure.get_size_inches()
    resolution = min(dpi, int(MAX_PIXELS / max(width, height)))
    buffer = io.BytesIO()
    figure.savefig(buffer, format=file_format, dpi=resolution, facecolor="white")
    atomic_write_bytes(path, buffer.getvalue())
    return _notebook_image(buffer.getvalue(), file_format)
