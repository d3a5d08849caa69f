"""load_img / img_to_array / array_to_img / save_img against Keras 3's own, on files Pillow writes."""

from __future__ import annotations

import io
import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402

import cnnkit  # noqa: E402
from cnnkit.utils import array_to_img, img_to_array, load_img, save_img  # noqa: E402

_RNG = np.random.default_rng(0)
_PIXELS = _RNG.integers(0, 256, size=(13, 17, 4), dtype=np.uint8)


def _image(mode: str) -> Image.Image:
    """A 17x13 test image in one Pillow mode."""
    if mode == "I;16":
        return Image.fromarray(_PIXELS[..., 0].astype(np.uint16) * 257)
    if mode in ("P", "1", "L"):
        return Image.fromarray(_PIXELS[..., :3], "RGB").convert(mode)
    return Image.fromarray(_PIXELS[..., : len(mode)], mode)


# (file ending, Pillow mode written)
FILES = [
    (".png", "RGB"),
    (".png", "RGBA"),
    (".png", "L"),
    (".png", "LA"),
    (".png", "P"),
    (".png", "1"),
    (".png", "I;16"),
    (".jpg", "RGB"),
    (".jpeg", "L"),
    (".bmp", "RGB"),
    (".gif", "P"),
]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("images")
    paths = {}
    for ending, mode in FILES:
        path = folder / f"{mode.replace(';', '_')}{ending}"
        _image(mode).save(path)
        paths[ending, mode] = path
    return paths


def _same(ours: Image.Image, theirs: Image.Image) -> None:
    assert ours.mode == theirs.mode and ours.size == theirs.size
    np.testing.assert_array_equal(img_to_array(ours), keras.utils.img_to_array(theirs))


@pytest.mark.parametrize("color_mode", ["rgb", "grayscale", "rgba"])
@pytest.mark.parametrize("file", FILES, ids=lambda f: f"{f[1]}{f[0]}")
def test_load_img_gives_keras_images(files, file, color_mode):
    path = files[file]
    ours = load_img(path, color_mode=color_mode)
    _same(ours, keras.utils.load_img(path, color_mode=color_mode))
    assert isinstance(ours, Image.Image)
    assert ours.getpixel((0, 0)) is not None  # usable after the file was closed


@pytest.mark.parametrize(
    "target_size, interpolation, keep",
    [
        ((7, 5), "nearest", False),
        ((7, 5), "bilinear", True),
        ((20, 30), "bicubic", False),
        ((20, 30), "lanczos", True),
        ((6, 6), "box", True),
        ((13, 9), "hamming", True),
        ((13, 17), "bilinear", True),  # the file's own size: unchanged
    ],
)
@pytest.mark.parametrize("file", [(".png", "RGB"), (".jpg", "RGB"), (".png", "L")])
def test_load_img_resizes_like_keras(files, file, target_size, interpolation, keep):
    kwargs = dict(target_size=target_size, interpolation=interpolation, keep_aspect_ratio=keep)
    ours = load_img(files[file], **kwargs)
    assert ours.size == (target_size[1], target_size[0])
    _same(ours, keras.utils.load_img(files[file], **kwargs))


def test_load_img_reads_a_stream_and_a_bytes_path(files):
    path = files[".png", "RGBA"]
    expected = img_to_array(load_img(path, color_mode="rgba"))
    stream = io.BytesIO(path.read_bytes())
    np.testing.assert_array_equal(img_to_array(load_img(stream, color_mode="rgba")), expected)
    np.testing.assert_array_equal(
        img_to_array(load_img(os.fsencode(path), color_mode="rgba")), expected
    )


@pytest.mark.parametrize("data_format", [None, "channels_last", "channels_first"])
@pytest.mark.parametrize("dtype", [None, "float64", "uint8"])
@pytest.mark.parametrize("mode", ["RGB", "RGBA", "L", "I;16"])
def test_img_to_array_matches_keras(mode, data_format, dtype):
    image = _image(mode)
    ours = img_to_array(image, data_format=data_format, dtype=dtype)
    theirs = keras.utils.img_to_array(image, data_format=data_format, dtype=dtype)
    assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
    np.testing.assert_array_equal(ours, theirs)


ARRAYS = {
    "rgb float": _RNG.normal(size=(5, 6, 3)),
    "rgba 0..1": _RNG.random(size=(5, 6, 4)),
    "gray": _RNG.random(size=(5, 6, 1)) * 200,
    "gray 16-bit": _RNG.random(size=(5, 6, 1)) * 60000,
    "constant": np.full((4, 4, 3), 7.0),
    "uint8": _PIXELS[:5, :6, :3],
}


@pytest.mark.parametrize("scale", [True, False])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("name", list(ARRAYS))
def test_array_to_img_matches_keras(name, data_format, scale):
    x = ARRAYS[name]
    if data_format == "channels_first":
        x = np.moveaxis(x, -1, 0)
    before = x.copy()
    ours = array_to_img(x, data_format=data_format, scale=scale)
    theirs = keras.utils.array_to_img(x, data_format=data_format, scale=scale)
    assert ours.mode == theirs.mode and ours.size == theirs.size
    np.testing.assert_array_equal(np.asarray(ours), np.asarray(theirs))
    np.testing.assert_array_equal(x, before)  # the caller's array is left as it was


@pytest.mark.parametrize("ending", [".png", ".jpg", ".jpeg", ".bmp", ".gif"])
@pytest.mark.parametrize("channels", [1, 3])
def test_save_img_writes_what_keras_writes(tmp_path, ending, channels):
    x = _PIXELS[:, :, :channels].astype(np.float32)
    save_img(tmp_path / f"ours{ending}", x)
    keras.utils.save_img(tmp_path / f"theirs{ending}", x)
    with (
        Image.open(tmp_path / f"ours{ending}") as ours,
        Image.open(tmp_path / f"theirs{ending}") as theirs,
    ):
        assert ours.format == theirs.format and ours.mode == theirs.mode
        np.testing.assert_array_equal(np.asarray(ours), np.asarray(theirs))
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"ours{ending}", f"theirs{ending}"]


def test_save_img_replaces_a_file_and_round_trips(tmp_path):
    path = tmp_path / "picture.png"
    path.write_bytes(b"old contents")
    x = _PIXELS[:, :, :3]
    save_img(path, x, scale=False)
    np.testing.assert_array_equal(img_to_array(load_img(path), dtype="uint8"), x)
    assert [p.name for p in tmp_path.iterdir()] == ["picture.png"]  # no temporary left


def test_save_img_to_a_stream_and_with_an_explicit_format(tmp_path):
    x = _PIXELS[:, :, :3]
    stream = io.BytesIO()
    save_img(stream, x, file_format="png", scale=False)
    np.testing.assert_array_equal(np.asarray(Image.open(io.BytesIO(stream.getvalue()))), x)
    save_img(tmp_path / "no_ending", np.moveaxis(x, -1, 0), "channels_first", "bmp", False)
    with Image.open(tmp_path / "no_ending") as image:
        assert image.format == "BMP"
        np.testing.assert_array_equal(np.asarray(image), x)


def test_save_img_turns_rgba_into_rgb_for_jpeg_with_a_warning(tmp_path):
    with pytest.warns(UserWarning, match="JPEG format does not support RGBA"):
        save_img(tmp_path / "a.jpg", _PIXELS)
    with Image.open(tmp_path / "a.jpg") as image:
        assert image.mode == "RGB"


def test_keras_2_spellings_reach_the_same_functions():
    assert cnnkit.preprocessing.image.load_img is load_img
    assert cnnkit.preprocessing.image.img_to_array is img_to_array
    assert cnnkit.preprocessing.image.array_to_img is array_to_img
    assert cnnkit.preprocessing.image.save_img is save_img


# ---------------------------------------------------------------------- bad input
def test_missing_file_is_a_value_error_naming_it(tmp_path):
    missing = tmp_path / "nowhere.png"
    with pytest.raises(ValueError, match=r"cannot read image file .*nowhere\.png.*No such file"):
        load_img(missing)


def test_a_file_that_is_not_an_image_is_refused_by_name(tmp_path):
    path = tmp_path / "notes.png"
    path.write_text("not an image")
    with pytest.raises(ValueError, match=r"notes\.png: it is not a PNG, JPEG, BMP or GIF image"):
        load_img(path)


def test_content_not_matching_the_ending_is_refused(tmp_path):
    path = tmp_path / "photo.png"
    _image("RGB").save(path, format="JPEG")
    with pytest.raises(ValueError, match=r"holds JPEG data but its name ends in '\.png'"):
        load_img(path)


def test_an_image_over_the_pixel_limit_is_an_error(tmp_path, monkeypatch):
    path = tmp_path / "big.png"
    _image("RGB").save(path)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)
    with pytest.raises(ValueError, match=r"big\.png is over the pixel limit of 100"):
        load_img(path)


def test_a_folder_is_refused(tmp_path):
    (tmp_path / "folder.png").mkdir()
    with pytest.raises(ValueError, match=r"folder\.png"):
        load_img(tmp_path / "folder.png")


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        (dict(color_mode="RGB"), ValueError, "load_img: color_mode must be one of 'grayscale', 'rgb', 'rgba'. Received: color_mode='RGB'"),
        (dict(color_mode="hsv"), ValueError, "Received: color_mode='hsv'"),
        (dict(target_size=32), TypeError, "load_img: target_size must be None or (height, width). Received: target_size=32"),
        (dict(target_size=(0, 4)), ValueError, "load_img: target_size must be a positive int. Received: target_size=0"),
        (dict(interpolation="cubic"), ValueError, "interpolation"),
        (dict(keep_aspect_ratio=1), TypeError, "keep_aspect_ratio"),
    ],
)  # fmt: skip
def test_load_img_arguments_are_checked(files, kwargs, error, message):
    with pytest.raises(error) as caught:
        load_img(files[".png", "RGB"], **kwargs)
    assert message in str(caught.value)


@pytest.mark.parametrize("path", [None, 3, ""])
def test_load_img_path_must_be_a_path(path):
    with pytest.raises(TypeError, match="load_img: path must be a file path"):
        load_img(path)


@pytest.mark.parametrize(
    "x, kwargs, message",
    [
        (np.zeros((4, 4)), {}, "array_to_img: x must be one image of rank 3"),
        (np.zeros((4, 4, 2)), {}, "array_to_img: the image must have 1, 3 or 4 channels"),
        (np.zeros((3, 4, 4)), {"data_format": "NHWC"}, "data_format must be one of"),
    ],
)
def test_array_to_img_checks_its_input(x, kwargs, message):
    with pytest.raises(ValueError, match=message):
        array_to_img(x, **kwargs)


def test_img_to_array_checks_the_rank():
    with pytest.raises(ValueError, match=r"img_to_array: img must be an image.*\(2, 3, 4, 5\)"):
        img_to_array(np.zeros((2, 3, 4, 5)))


def test_save_img_needs_a_known_format(tmp_path):
    with pytest.raises(ValueError, match=r"save_img: unknown image file_format 'xyz'"):
        save_img(tmp_path / "a.xyz", _PIXELS[:, :, :3])
    with pytest.raises(ValueError, match=r"save_img: unknown image file_format ''"):
        save_img(tmp_path / "no_ending", _PIXELS[:, :, :3])
    with pytest.raises(TypeError, match="save_img: file_format must be a string"):
        save_img(io.BytesIO(), _PIXELS[:, :, :3])
    assert list(tmp_path.iterdir()) == []
