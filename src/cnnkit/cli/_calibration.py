"""``--calibration-data``: the images int8 quantization measures activation ranges on, read
from a dataset name, a folder or file of images, or a .npy/.npz array, as the model takes them.

Images (uint8) are scaled to [0, 1] like every command feeds a model; float arrays are taken
as already scaled. At most ``MAX_IMAGES`` are read (evenly spaced), enough for min-max ranges.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from cnnkit.cli import _data
from cnnkit.cli._errors import CommandError

#: Most calibration images read (export uses at most 512 too).
MAX_IMAGES = 512
#: Array files accepted (read without pickle).
ARRAY_SUFFIXES = (".npy", ".npz")
#: The arrays of an .npz looked for, in order, when it holds more than one.
NPZ_KEYS = ("x", "x_train", "images")
FLAG = "--calibration-data"


def read(spec: str, model_input: tuple[int, int, int]) -> np.ndarray:
    """Float32 images (n, height, width, channels) in the model's size and channels."""
    path = Path(spec)
    if path.suffix.lower() in ARRAY_SUFFIXES and path.is_file():
        return _from_array(_load_array(path), model_input, str(path))
    if path.is_file() or path.is_dir():
        return _data.scaled(_from_images(_image_files(path), model_input))
    if spec.strip().lower().replace("-", "_") in _data.DATASET_NAMES:
        data = _data.load(spec, model_input[:2])
        x = _data.fit_to_model(data.x_train[_spaced(len(data.x_train))], model_input, data.name)
        return _data.scaled(x)
    raise CommandError(
        f"{FLAG} {spec}: no such file or folder; give a folder of images, an image file, an "
        f".npy/.npz array of images or a dataset name ({', '.join(_data.DATASET_NAMES)})"
    )


def _spaced(count: int) -> np.ndarray:
    """Indices of at most MAX_IMAGES items spread evenly over ``count``."""
    return np.unique(np.linspace(0, count - 1, min(count, MAX_IMAGES)).astype(int))


def _load_array(path: Path) -> np.ndarray:
    try:
        loaded = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as error:
        raise CommandError(f"{FLAG} {path}: not a readable NumPy array file ({error})") from error
    if isinstance(loaded, np.ndarray):
        return loaded
    with loaded:
        names = list(loaded.files)
        key = names[0] if len(names) == 1 else next((k for k in NPZ_KEYS if k in names), None)
        if key is None:
            raise CommandError(
                f"{FLAG} {path}: holds the arrays {names}; name the images one of "
                f"{', '.join(NPZ_KEYS)} (or store only them)"
            )
        return loaded[key]


def _from_array(x: np.ndarray, model_input: tuple[int, int, int], name: str) -> np.ndarray:
    """An array of images checked against the model's input: uint8 scaled, float kept."""
    if x.ndim == 3 and model_input[2] == 1:
        x = x[..., None]
    if x.ndim != 4 or len(x) == 0 or tuple(x.shape[1:]) != model_input:
        shape = ", ".join(map(str, model_input))
        raise CommandError(
            f"{FLAG} {name}: the model takes images of shape (n, {shape}); the array has "
            f"shape {x.shape}"
        )
    x = x[_spaced(len(x))]
    if x.dtype == np.uint8:
        return _data.scaled(x)
    if not np.issubdtype(x.dtype, np.floating) or not np.isfinite(x).all():
        raise CommandError(
            f"{FLAG} {name}: images must be uint8 (0-255) or finite floats scaled as the model "
            f"takes them (0-1 for models cnnkit train wrote); the array has dtype {x.dtype}"
        )
    return x.astype(np.float32)


def _image_files(path: Path) -> list[Path]:
    """``path`` itself, or the image files under the folder (sub-folders included), sorted."""
    from cnnkit.datasets import IMAGE_EXTENSIONS

    if path.is_file():
        return [path]
    files = sorted(
        Path(root) / name
        for root, _, names in os.walk(path)
        for name in names
        if Path(name).suffix.lower() in IMAGE_EXTENSIONS
    )
    if not files:
        raise CommandError(
            f"{FLAG} {path}: no image files ({', '.join(IMAGE_EXTENSIONS)}) in the folder"
        )
    return [files[index] for index in _spaced(len(files))]


def _from_images(files: list[Path], model_input: tuple[int, int, int]) -> np.ndarray:
    """uint8 images in the model's channels and size; one note when some were resized."""
    from cnnkit.cli._commands_predict import _COLOR_MODES
    from cnnkit.datasets import load_image

    height, width, channels = model_input
    if channels not in _COLOR_MODES:
        raise CommandError(f"the model takes {channels}-channel images; only 1, 3 or 4 can be read")
    images, resized = [], 0
    for file in files:
        try:
            image = load_image(str(file), _COLOR_MODES[channels])
        except ValueError as error:
            raise CommandError(f"{FLAG}: {error}") from error
        if image.shape[:2] != (height, width):
            image = _data.resize(image[None], (height, width))[0]
            resized += 1
        images.append(image)
    if resized:
        print(f"note: {resized} of {len(files)} calibration images resized to {height}x{width}")
    return np.stack(images)
