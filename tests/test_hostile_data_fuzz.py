"""Fuzzing the IDX and CIFAR readers with mutated valid files: the only outcomes are the data
or a ValueError/OSError, within a small multiple of the file's size in memory."""

from __future__ import annotations

import gzip
import tempfile
from pathlib import Path

import numpy as np
from hostile_files import cifar_records, idx_bytes, peak_bytes, tarball, with_declared_size
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cnnkit.datasets._cifar import load_cifar
from cnnkit.datasets._idx import DEFLATE_MAX_RATIO, read_idx, read_mnist_style

MIB = 1 << 20
FUZZ = settings(
    max_examples=300,
    deadline=None,
    derandomize=True,  # the same cases on every run: a failure is never a fluke
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
TRAIN = [f"cifar-10-batches-bin/data_batch_{i}.bin" for i in range(1, 6)]
TEST = "cifar-10-batches-bin/test_batch.bin"


def mutations(size_hint: int) -> st.SearchStrategy:
    """Edits of a byte string: overwrite bytes, cut it, or insert bytes."""
    at = st.integers(0, size_hint)
    return st.lists(
        st.one_of(
            st.tuples(st.just("set"), at, st.binary(min_size=1, max_size=4)),
            st.tuples(st.just("cut"), at, st.just(b"")),
            st.tuples(st.just("insert"), at, st.binary(min_size=1, max_size=8)),
        ),
        max_size=4,
    )


def mutate(data: bytes, edits: list) -> bytes:
    """Apply ``edits`` (positions wrap around the current length)."""
    out = bytearray(data)
    for kind, at, value in edits:
        at = at % (len(out) + 1)
        if kind == "set":
            out[at : at + len(value)] = value
        elif kind == "cut":
            del out[at:]
        else:
            out[at:at] = value
    return bytes(out)


def mutated_in_place(data: bytes, edits, where: str) -> bytes:
    """``data`` mutated plain ('plain'), mutated then gzipped ('gzip inner') or gzipped then
    mutated ('gzip outer')."""
    if where != "gzip outer":
        data = mutate(data, edits)
    if where != "plain":
        data = gzip.compress(data, mtime=0)
    if where == "gzip outer":
        data = mutate(data, edits)
    return data


def outcome(call, file_size: int, allowed_ratio: int) -> None:
    """``call`` returns or raises ValueError/OSError, peaking under the allowed memory."""
    peak, raised = peak_bytes(call)
    assert raised is None or isinstance(raised, (ValueError, OSError)), repr(raised)
    assert peak < allowed_ratio * file_size + 2 * MIB, (peak, file_size)


idx_files = st.tuples(
    st.sampled_from([(3, 28, 28), (5,), (2, 3), (1, 4, 4)]),
    st.sampled_from(["plain", "gzip inner", "gzip outer"]),
    st.lists(st.integers(0, 2**32 - 1), max_size=3),  # replacement dimension sizes
    st.integers(0, 255),  # replacement type code / ndim byte
    st.booleans(),
)


@FUZZ
@given(spec=idx_files, edits=mutations(3000))
def test_mutated_idx_files_give_data_or_a_value_error(spec, edits):
    shape, where, dims, byte, touch_magic = spec
    data = idx_bytes(np.arange(np.prod(shape), dtype=np.uint8).reshape(shape))
    for i, dim in enumerate(dims):  # header fields: dimension sizes
        data = data[: 4 + 4 * i] + dim.to_bytes(4, "big") + data[8 + 4 * i :]
    if touch_magic:  # header fields: type code or rank
        data = data[:2] + bytes([byte]) + data[3:] if byte % 2 else data[:3] + bytes([byte % 8])
    data = mutated_in_place(data, edits, where)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "train-images-idx3-ubyte.gz"
        path.write_bytes(data)
        ratio = DEFLATE_MAX_RATIO if where != "plain" else 4
        outcome(lambda: read_idx(path), len(data), ratio)
        checked = lambda: read_mnist_style(path, path, max_count=60_000, image_shape=(28, 28))  # noqa: E731
        outcome(checked, len(data), ratio)


def _cifar_members() -> dict[str, bytes]:
    members = {name: cifar_records(2, seed=i) for i, name in enumerate([*TRAIN, TEST])}
    members["cifar-10-batches-bin/batches.meta.txt"] = b"airplane\nautomobile\n"
    return members


_CIFAR_TAR = tarball(_cifar_members(), compress=False)
_MEMBER_BLOCKS = 512 + 2 * 3073 + (-2 * 3073 % 512)  # header, two records, padding


@FUZZ
@given(
    where=st.sampled_from(["plain", "gzip inner", "gzip outer"]),
    size_field=st.tuples(
        st.integers(0, 6), st.one_of(st.integers(0, 8**11 - 1), st.integers(0, 4 * 3073))
    ),
    edits=mutations(len(_CIFAR_TAR)),
)
def test_mutated_cifar_archives_give_data_or_a_value_error(where, size_field, edits):
    data = _CIFAR_TAR
    member, size = size_field
    if size % 3:  # header field: a member's size, checksum kept valid
        data = with_declared_size(data, member * _MEMBER_BLOCKS, size)
    data = mutated_in_place(data, edits, where)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "cifar-10-binary.tar.gz"
        path.write_bytes(data)
        load = lambda: load_cifar(  # noqa: E731
            path,
            TRAIN,
            TEST,
            label_bytes=1,
            label_column=0,
            num_classes=10,
            train_records=2,
            test_records=2,
        )
        outcome(load, len(data), 4)


def _encoded_images() -> dict[str, bytes]:
    """A small image in each decoded format, keyed by file ending."""
    import io

    from PIL import Image

    image = Image.fromarray(np.arange(6 * 5 * 3, dtype=np.uint8).reshape(6, 5, 3))
    out = {}
    for ending, format in [(".png", "PNG"), (".jpg", "JPEG"), (".bmp", "BMP"), (".gif", "GIF")]:
        buffer = io.BytesIO()
        image.save(buffer, format=format)
        out[ending] = buffer.getvalue()
    return out


_IMAGES = _encoded_images()


@FUZZ
@given(ending=st.sampled_from(sorted(_IMAGES)), edits=mutations(400))
def test_mutated_image_files_give_an_image_or_a_value_error(ending, edits):
    from cnnkit.datasets._image_io import load_image

    data = mutate(_IMAGES[ending], edits)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"image{ending}"
        path.write_bytes(data)
        peak, raised = peak_bytes(lambda: load_image(path, "rgb"))
    assert raised is None or isinstance(raised, ValueError), repr(raised)
    assert peak < 64 * MIB
