"""``cnnkit predict``: the top classes of image files, read the way the model needs them."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np

from cnnkit.cli import _data, _run_dir, _tta
from cnnkit.cli._errors import CommandError
from cnnkit.cli._inference_model import load_for_inference

#: Channels a model takes -> the Pillow colour conversion that produces them.
_COLOR_MODES = {1: "grayscale", 3: "rgb", 4: "rgba"}
#: Channels a model takes -> how a notice names them.
_COLOR_NAMES = {1: "grayscale", 3: "RGB", 4: "RGBA"}
#: Pillow's first band of a single-channel (gray) image: bilevel, 8-bit, 32-bit int, float.
_GRAY_BANDS = ("1", "L", "I", "F")


def run(args: argparse.Namespace) -> int:
    """Classify every image and print its top-k classes with probabilities."""
    path = _run_dir.model_file(args.model)
    model = load_for_inference(path)
    model_input = _data.model_input_shape(model)
    images = np.stack([read_image(image, model_input) for image in args.images])
    probabilities = _data.checked_outputs(
        model.predict(
            _data.scaled(images), batch_size=256, verbose=0, **_tta.option(args.no_tta, path)
        ),
        path,
    )
    names = class_names(
        args.class_names, path, probabilities.shape[1], getattr(model, "class_names", None)
    )
    for image, row in zip(args.images, probabilities, strict=True):
        print(image)
        print_top_classes(row, names, args.top_k)
    return 0


def print_top_classes(row: np.ndarray, names: list[str], top_k: int) -> None:
    """One image's ``top_k`` classes, most probable first, with their probabilities."""
    for rank, label in enumerate(np.argsort(-row, kind="stable")[:top_k], start=1):
        print(f"  {rank}. {names[label]:<20} {row[label]:.4f}")


def read_image(path: str, model_input: tuple[int, int, int]) -> np.ndarray:
    """An image file as uint8 (h, w, c) in the model's channels and size; a resize is announced
    because a very different size or aspect ratio explains a surprising prediction."""
    from cnnkit.datasets import load_image

    height, width, channels = model_input
    if channels not in _COLOR_MODES:
        raise CommandError(f"the model takes {channels}-channel images; only 1, 3 or 4 can be read")
    colors = file_colors(path)
    image = load_image(path, _COLOR_MODES[channels])
    if colors is not None and colors != _COLOR_NAMES[channels]:
        print(
            f"note: {path} is {colors}; converted to {_COLOR_NAMES[channels]}, the model's "
            f"{channels} channel{'s' if channels > 1 else ''}"
        )
    if image.shape[:2] != (height, width):
        print(
            f"note: {path} is {image.shape[0]}x{image.shape[1]}; resized to the model's "
            f"{height}x{width}"
        )
        image = _data.resize(image[None], (height, width))[0]
    return image


def file_colors(path: str) -> str | None:
    """How an image file stores colour: 'grayscale', 'grayscale with alpha', 'RGB' or 'RGBA'
    (palette and CMYK files count as RGB); None when Pillow cannot open it (``load_image``
    then says why)."""
    from cnnkit.datasets import open_image

    try:  # as safely as load_image: regular files of the documented formats only
        with open_image(path) as image:
            bands, info = image.getbands(), image.info
    except ValueError:  # load_image, which reads it next, says why
        return None
    alpha = "A" in bands or "a" in bands or "transparency" in info
    if bands[0] in _GRAY_BANDS:
        return "grayscale with alpha" if alpha else "grayscale"
    return "RGBA" if alpha else "RGB"


def class_names(
    option: str | None, model_path: Path, count: int, stored: list[str] | None = None
) -> list[str]:
    """Names from ``--class-names`` (a JSON file or a comma list), else those stored in the
    model file (an export), else those ``train`` saved beside the model, else the numbers."""
    if option is None:
        names = stored or _run_dir.class_names_beside(model_path)
    elif os.path.isfile(option):
        names = _run_dir.read_class_names(Path(option))
    else:
        names = [name.strip() for name in option.split(",")]
    if names is None:
        return [str(label) for label in range(count)]
    if len(names) != count:
        raise CommandError(f"{len(names)} class names given but the model predicts {count} classes")
    return names
