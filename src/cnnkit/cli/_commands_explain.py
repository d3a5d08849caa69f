"""``cnnkit explain``: what a model looks at in image files, as one overlay picture per image."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from cnnkit.cli import _data, _run_dir
from cnnkit.cli._commands_predict import class_names, print_top_classes, read_image
from cnnkit.cli._errors import CommandError, UsageError
from cnnkit.cli._parser import EXPLAIN_METHODS
from cnnkit.models import load_model

#: The methods that read a layer's feature maps (``--layer``).
LAYER_METHODS = EXPLAIN_METHODS[:2]


def run(args: argparse.Namespace) -> int:
    """Explain every image's class with ``--method``, write ``<out>/<image>_<method>.png`` and
    print the image's top classes."""
    from cnnkit import explain, plots

    path = _run_dir.model_file(args.model)
    out = Path(args.out)
    _run_dir.check_out_folder(out)
    model = load_model(path, compile=False)
    layer = _layer(model, args.layer, args.method)
    images = np.stack([read_image(image, _data.model_input_shape(model)) for image in args.images])
    inputs = _data.scaled(images)
    probabilities = _data.checked_outputs(model.predict(inputs, batch_size=256, verbose=0), path)
    names = class_names(args.class_names, path, probabilities.shape[1])
    target = None if args.target is None else _target(args.target, names)
    method = getattr(explain, args.method)
    options = {"layer": layer} if args.method in LAYER_METHODS else {}
    if args.method == "smooth_grad":
        options["seed"] = 0  # the same picture for the same files, run after run
    maps = method(model, inputs, target=target, **options)
    out.mkdir(parents=True, exist_ok=True)
    for index, (image, row) in enumerate(zip(args.images, probabilities, strict=True)):
        picture = out / _picture_name(args.images, index, args.method)
        explained = names[int(np.argmax(row)) if target is None else target]
        plots.explanation(
            images[index : index + 1],
            maps[index : index + 1],
            probabilities=row[None],
            class_names=names,
            title=f"{args.method} for class {explained}",
            save=picture,
        )
        print(image)
        print_top_classes(row, names, args.top_k)
        print(f"  wrote {picture}")
    return 0


def _picture_name(images: list[str], index: int, method: str) -> str:
    """``<stem>_<method>.png``; images that share a file name get their position added."""
    stem = Path(images[index]).stem
    if sum(Path(other).stem == stem for other in images) > 1:
        stem = f"{stem}_{index + 1}"
    return f"{stem}_{method}.png"


def _layer(model: object, layer: str | None, method: str) -> str | None:
    """The ``--layer`` name, checked against the model's spatial layers."""
    from cnnkit import explain

    spatial = [candidate.name for candidate in explain.spatial_layers(model)]
    if layer is not None and method not in LAYER_METHODS:
        raise UsageError(
            f"--layer is used by --method {' or '.join(LAYER_METHODS)} only; got --method {method}"
        )
    if method in LAYER_METHODS and not spatial:
        raise CommandError(
            f"--method {method} needs a layer with (height, width, channels) feature maps and "
            "the model has none; use --method saliency or occlusion"
        )
    if layer is not None and layer not in spatial:
        raise UsageError(
            f"--layer {layer!r} is not a layer with feature maps of the model; choose one of: "
            f"{', '.join(spatial)}"
        )
    return layer


def _target(value: str, names: list[str]) -> int:
    """``--target`` as a class index: a class name, or a number 0..classes-1."""
    if value in names:
        return names.index(value)
    if value.isdigit() and int(value) < len(names):
        return int(value)
    raise UsageError(
        f"--target {value!r} is not a class of the model; give a class name "
        f"({', '.join(names[:10])}{', ...' if len(names) > 10 else ''}) or a number "
        f"0..{len(names) - 1}"
    )
