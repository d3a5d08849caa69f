"""Image files that are not what they claim: pipes, other formats under a PNG name, pixel
bombs, 16-bit PNGs; and complex arrays given to fit/predict."""

from __future__ import annotations

import os
import struct
import warnings
import zlib

import numpy as np
import pytest
import torch
from PIL import EpsImagePlugin, Image

from cnnkit.cli import main
from cnnkit.datasets import image_folder
from cnnkit.datasets._image_io import load_image
from cnnkit.layers import Dense, Flatten, Input
from cnnkit.models import Sequential

EPS = (
    b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 8 8\n%%EndComments\n"
    b"0 0 moveto 8 8 lineto stroke\nshowpage\n%%EOF\n"
)


def png_16_bit(values: np.ndarray, color_type: int) -> bytes:
    """A 16-bit PNG written by hand (colour type 0 gray, 2 RGB), so Pillow's reader is tested
    against bytes it did not write."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    height, width = values.shape[:2]
    rows = values.astype(">u2").reshape(height, -1)
    raw = b"".join(b"\x00" + row.tobytes() for row in rows)
    header = struct.pack(">IIBBBBB", width, height, 16, color_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def save(image: Image.Image, path, format: str) -> str:
    """Save ``image`` in ``format`` whatever the name, and return the path as a string."""
    image.save(path, format=format)
    return str(path)


@pytest.fixture
def rgb() -> Image.Image:
    return Image.fromarray(np.arange(48, dtype=np.uint8).reshape(4, 4, 3))


def test_fifo_named_png_is_refused_without_blocking(tmp_path, rgb):
    os.mkfifo(tmp_path / "x.png")
    with pytest.raises(ValueError, match=r"image file .*x\.png is a FIFO \(named pipe\); only "):
        load_image(tmp_path / "x.png")
    (tmp_path / "cat").mkdir()
    save(rgb, tmp_path / "cat" / "a.png", "PNG")
    os.mkfifo(tmp_path / "cat" / "b.png")
    with pytest.raises(ValueError, match=r"image_folder: image file .*b\.png is a FIFO"):
        image_folder(tmp_path / "cat" / "..")
    with pytest.warns(UserWarning, match=r"skipped 1 unreadable file"):
        assert len(image_folder(tmp_path, on_error="skip")) == 1


def test_tiff_named_png_is_refused(tmp_path, rgb):
    path = save(rgb, tmp_path / "photo.png", "TIFF")
    with pytest.raises(
        ValueError,
        match=r"cannot read image file .*photo\.png: it is not a PNG, JPEG, BMP or GIF image "
        r"\(only these formats are decoded\)",
    ):
        load_image(path)


def test_eps_named_png_never_reaches_the_postscript_reader(tmp_path, monkeypatch):
    opened = []
    original = EpsImagePlugin.EpsImageFile._open
    monkeypatch.setattr(
        EpsImagePlugin.EpsImageFile, "_open", lambda self: opened.append(1) or original(self)
    )
    path = tmp_path / "drawing.png"
    path.write_bytes(EPS)
    with pytest.raises(ValueError, match=r"drawing\.png: it is not a PNG, JPEG, BMP or GIF"):
        load_image(path)
    assert not opened
    with Image.open(path) as unrestricted:  # Pillow alone takes it for EPS (loading runs gs)
        assert unrestricted.format == "EPS" and opened


def test_known_format_under_the_wrong_ending_is_refused(tmp_path, rgb):
    path = save(rgb, tmp_path / "photo.jpg", "PNG")
    with pytest.raises(
        ValueError, match=r"photo\.jpg holds PNG data but its name ends in '\.jpg'; rename it"
    ):
        load_image(path)
    gif = save(rgb, tmp_path / "other-ending.webp", "GIF")  # predict reads any name by content
    assert load_image(gif).shape == (4, 4, 3)


@pytest.mark.parametrize("side", [11, 20])  # over the limit; over twice it (Pillow's own error)
def test_pixel_limit_is_an_error_not_a_warning(tmp_path, monkeypatch, side):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)
    path = save(Image.new("L", (side, side)), tmp_path / "big.png", "PNG")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match=r"big\.png is over the pixel limit of 100 \(PIL"):
            load_image(path)
    save(Image.new("L", (10, 10)), path, "PNG")
    assert load_image(path, "grayscale").shape == (10, 10, 1)


def test_a_batch_read_refuses_an_image_over_the_limit_without_a_warning(tmp_path, monkeypatch):
    from cnnkit.datasets import _image_io
    from cnnkit.utils._image_dataset import read_pixels

    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)
    small = save(Image.new("L", (10, 10)), tmp_path / "small.png", "PNG")
    big = save(Image.new("L", (11, 11)), tmp_path / "big.png", "PNG")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # silenced once for the batch, not let through
        assert read_pixels("grayscale", [small, small]).shape == (2, 10, 10, 1)
        with pytest.raises(ValueError, match=r"big\.png is over the pixel limit of 100"):
            read_pixels("grayscale", [small, big])
        assert _image_io._quiet_already == [False]  # the batch's silencing ended with it
        with pytest.raises(ValueError, match=r"big\.png is over the pixel limit of 100"):
            load_image(big)


def test_16_bit_gray_png_is_scaled_like_16_bit_colour(tmp_path):
    values = np.array([[0, 255, 256, 257 * 3], [32768, 60000, 65280, 65535]], np.uint16)
    gray = tmp_path / "gray16.png"
    gray.write_bytes(png_16_bit(values, color_type=0))
    colour = tmp_path / "rgb16.png"
    colour.write_bytes(png_16_bit(np.stack([values] * 3, axis=-1), color_type=2))

    loaded = load_image(gray, "grayscale")[..., 0]

    np.testing.assert_array_equal(loaded, values >> 8)
    assert loaded.tolist() == [[0, 0, 1, 3], [128, 234, 255, 255]]
    np.testing.assert_array_equal(load_image(gray, "rgb"), load_image(colour, "rgb"))
    np.testing.assert_array_equal(loaded, load_image(colour, "grayscale")[..., 0])


def _model() -> Sequential:
    return Sequential([Input((4, 4, 1)), Flatten(), Dense(2, activation="softmax")])


@pytest.mark.parametrize(
    "call",
    [
        lambda m, x: m.fit(x, np.array([0, 1]), epochs=1, verbose=0),
        lambda m, x: m.predict(x, verbose=0),
        lambda m, x: m.evaluate(x, np.array([0, 1]), verbose=0),
        lambda m, x: m.fit(np.zeros((2, 4, 4, 1)), np.array([0, 1]), validation_data=(x, [0, 1])),
    ],
    ids=["fit", "predict", "evaluate", "validation_data"],
)
@pytest.mark.parametrize("kind", ["numpy", "tensor"])
def test_complex_input_is_refused_not_cast_to_real(call, kind):
    x = np.ones((2, 4, 4, 1)) + 1j
    x = torch.from_numpy(x) if kind == "tensor" else x
    model = _model()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    with pytest.raises(TypeError, match=r"x must hold real numbers; received complex values"):
        call(model, x)


def test_complex_labels_and_weights_are_refused():
    model = _model()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    x = np.zeros((2, 4, 4, 1))
    with pytest.raises(TypeError, match=r"fit: y must hold real numbers"):
        model.fit(x, np.array([0, 1j]), verbose=0)
    with pytest.raises(TypeError, match=r"fit: sample_weight must hold real numbers"):
        model.fit(x, np.array([0, 1]), sample_weight=np.ones(2) * 1j, verbose=0)


def test_predict_command_refuses_a_fifo_and_a_disguised_file(tmp_path, capsys, monkeypatch):
    opened = []
    monkeypatch.setattr(EpsImagePlugin.EpsImageFile, "_open", lambda self: opened.append(1))
    model = _model()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    model.save(tmp_path / "model.cnnkit")
    os.mkfifo(tmp_path / "x.png")
    (tmp_path / "y.png").write_bytes(EPS)
    for name, message in [("x.png", "is a FIFO (named pipe)"), ("y.png", "is not a PNG, JPEG")]:
        code = main(["predict", str(tmp_path / "model.cnnkit"), str(tmp_path / name)])
        err = capsys.readouterr().err
        assert code == 1 and err.startswith("cnnkit: ") and message in err, err
        assert "Traceback" not in err and err.count("\n") == 1
    assert not opened  # neither the colour check nor the reading tried the PostScript reader
