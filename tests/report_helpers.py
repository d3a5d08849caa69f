"""Small trained models and data for the report tests (grayscale digits, generated RGB)."""

from __future__ import annotations

import base64
import io
from html.parser import HTMLParser

import numpy as np
import torch
from PIL import Image

from cnnkit import Sequential
from cnnkit.datasets import digits
from cnnkit.layers import Conv2D, Dense, Flatten, MaxPooling2D
from cnnkit.utils import set_random_seed


def tiny_cnn(shape: tuple[int, int, int], classes: int) -> Sequential:
    """Two small convolutions and a Dense classifier, compiled."""
    set_random_seed(0)
    model = Sequential(
        [
            Conv2D(6, 3, padding="same", activation="relu", input_shape=shape),
            MaxPooling2D(2),
            Conv2D(8, 3, padding="same", activation="relu"),
            Flatten(),
            Dense(16, activation="relu"),
            Dense(classes, activation="softmax"),
        ]
    )
    model.compile("adam", "sparse_categorical_crossentropy", ["accuracy"])
    return model


def digits_case(n_train: int = 300, n_test: int = 60):
    """Grayscale, 10 classes: the embedded 8x8 digits, a tiny CNN trained for 3 epochs."""
    (x, y), (x_test, y_test) = digits.load_data()
    x, y, x_test, y_test = x[:n_train], y[:n_train], x_test[:n_test], y_test[:n_test]
    model = tiny_cnn((8, 8, 1), 10)
    history = model.fit(x[..., None] / 255, y, epochs=3, verbose=0, validation_split=0.2)
    return model, history, ((x, y), (x_test, y_test))


def rgb_case(classes: int = 100, per_class_train: int = 3, per_class_test: int = 1):
    """RGB, ``classes`` classes: generated 8x8 colour images, one mean colour per class."""
    rng = np.random.default_rng(0)
    colours = rng.integers(30, 226, size=(classes, 3))

    def make(per_class: int):
        y = np.repeat(np.arange(classes), per_class)
        noise = rng.normal(0, 20, size=(len(y), 8, 8, 3))
        x = np.clip(colours[y][:, None, None, :] + noise, 0, 255).astype(np.uint8)
        return x, y

    train, test = make(per_class_train), make(per_class_test)
    model = tiny_cnn((8, 8, 3), classes)
    history = model.fit(train[0] / 255, train[1], epochs=1, verbose=0)
    return model, history, (train, test)


class PageParser(HTMLParser):
    """Collects section ids, image sources and tag names of an HTML page."""

    def __init__(self) -> None:
        super().__init__()
        self.sections: list[str] = []
        self.images: list[str] = []
        self.tags: set[str] = set()
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.tags.add(tag)
        if tag == "section":
            self.sections.append(attributes.get("id"))
        if tag == "img":
            self.images.append(attributes.get("src", ""))
        for name in ("href", "src"):
            if name in attributes and tag != "img":
                self.links.append(attributes[name])


def parse(path) -> tuple[PageParser, str]:
    text = path.read_text(encoding="utf-8")
    parser = PageParser()
    parser.feed(text)
    return parser, text


def decode_png(source: str) -> Image.Image:
    prefix = "data:image/png;base64,"
    assert source.startswith(prefix)
    image = Image.open(io.BytesIO(base64.b64decode(source[len(prefix) :])))
    image.load()
    return image


def single_thread():
    """Context for one OpenMP/BLAS thread and one torch thread (the shared cores are busy)."""
    from contextlib import contextmanager

    from threadpoolctl import threadpool_limits

    @contextmanager
    def limit():
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            with threadpool_limits(1):
                yield
        finally:
            torch.set_num_threads(threads)

    return limit()
