"""Crafting hostile model files for the tests: save a real model, then rewrite its header or
tensors as an attacker could."""

from __future__ import annotations

import json
import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import safe_open
from safetensors.torch import save_file

import cnnkit
from cnnkit.layers import BatchNormalization, Conv2D, Dense, Flatten


def small_model(optimizer: Any = "adam") -> cnnkit.Sequential:
    """Conv2D + BatchNormalization + Dense on 8x8 images, trained one epoch (state exists)."""
    cnnkit.utils.set_random_seed(0)
    model = cnnkit.Sequential(
        [Conv2D(4, 3, input_shape=(8, 8, 1)), BatchNormalization(), Flatten(), Dense(3)],
        name="small",
    )
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy")
    x = np.random.default_rng(0).random((32, 8, 8, 1)).astype(np.float32)
    model.fit(x, np.arange(32) % 3, epochs=1, batch_size=16, verbose=0)
    return model


def read(path: Path) -> tuple[dict[str, str], dict[str, torch.Tensor]]:
    """The file's metadata and tensors."""
    with safe_open(str(path), framework="pt") as reader:
        return dict(reader.metadata()), {k: reader.get_tensor(k) for k in reader.keys()}


def rewrite(path: Path, change: Callable[[dict[str, str], dict[str, torch.Tensor]], None]) -> None:
    """Let ``change`` edit the metadata and tensors in place, then write them back."""
    metadata, tensors = read(path)
    change(metadata, tensors)
    save_file(tensors, str(path), metadata=metadata)


def edit_section(path: Path, section: str, change: Callable[[Any], Any]) -> None:
    """Replace a JSON section of the metadata by ``change(parsed section)``."""

    def apply(metadata, _tensors):
        metadata[section] = json.dumps(change(json.loads(metadata[section])))

    rewrite(path, apply)


def raw_header(data: bytes) -> tuple[dict[str, Any], bytes]:
    """The safetensors JSON header of ``data`` and the tensor bytes after it."""
    size = struct.unpack("<Q", data[:8])[0]
    return json.loads(data[8 : 8 + size]), data[8 + size :]


def with_raw_header(header: dict[str, Any] | str, body: bytes) -> bytes:
    """A safetensors file made of ``header`` (edited freely, even invalid) and ``body``."""
    encoded = (header if isinstance(header, str) else json.dumps(header)).encode()
    encoded += b" " * (-len(encoded) % 8)
    return struct.pack("<Q", len(encoded)) + encoded + body
