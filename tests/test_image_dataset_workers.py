"""image_dataset_from_directory decoding in worker processes: the same batches as one thread,
a bounded read-ahead, no process left behind; ordered_map's threads; and, when TensorFlow is
installed, the same files, split and labels as tf.keras."""

from __future__ import annotations

import gc
import os
import sys
import threading
import time

import numpy as np
import pytest
import torch

import cnnkit
from cnnkit._parallel import ordered_map, ordered_process_map
from cnnkit.utils import _image_dataset, image_dataset_from_directory

Image = pytest.importorskip("PIL.Image")


@pytest.fixture
def folder(tmp_path):
    """Three classes of 30 images in all, most 12x10, some of other sizes, PNG and JPEG."""
    rng = np.random.default_rng(1)
    for i in range(30):
        height, width = (12, 10) if i % 4 else tuple(int(v) for v in rng.integers(5, 20, 2))
        pixels = rng.integers(0, 256, size=(height, width, 3)).astype("uint8")
        sub = tmp_path / ("abc"[i % 3])
        sub.mkdir(exist_ok=True)
        Image.fromarray(pixels).save(sub / f"{i:02d}.{'jpg' if i % 2 else 'png'}")
    return tmp_path


def _passes(folder, workers, count=2, **options):
    ds = image_dataset_from_directory(folder, verbose=False, num_workers=workers, **options)
    return [[_as_lists(element) for element in ds] for _ in range(count)]


def _as_lists(element):
    if isinstance(element, tuple):
        return tuple(_as_lists(part) for part in element)
    return (str(element.dtype), element.numpy().tolist())


def _worker_threads():
    return [t for t in threading.enumerate() if t.name.startswith("cnnkit-data")]


def _children():
    """The ids of this process's child processes, from /proc."""
    if not sys.platform.startswith("linux"):
        pytest.skip("child processes are listed from Linux's /proc")
    found = set()
    for task in os.listdir(f"/proc/{os.getpid()}/task"):
        try:
            with open(f"/proc/{os.getpid()}/task/{task}/children") as file:
                found.update(int(pid) for pid in file.read().split())
        except FileNotFoundError:
            continue  # a thread that ended in between
    return found


@pytest.fixture
def no_new_children():
    """Fail the test if it leaves a child process behind."""
    before = _children()
    yield
    assert _children() - before == set()


@pytest.mark.parametrize(
    "options",
    [
        {"seed": 3, "batch_size": 4, "image_size": (12, 10)},
        {"seed": 4, "batch_size": 5, "image_size": (7, 9), "label_mode": "categorical"},
        {"shuffle": False, "batch_size": 8, "image_size": 6, "data_format": "channels_first"},
        {"seed": 5, "batch_size": None, "image_size": (8, 8), "label_mode": None},
        {"seed": 6, "validation_split": 0.3, "subset": "training", "image_size": (5, 5)},
        {"seed": 7, "batch_size": 3, "image_size": (9, 9), "crop_to_aspect_ratio": True},
    ],
)
def test_worker_processes_give_the_batches_of_one_thread(folder, options, no_new_children):
    serial = _passes(folder, 0, **options)
    assert serial[0] != serial[1] or options.get("shuffle") is False  # reshuffled per pass
    for workers in (1, 3):
        assert _passes(folder, workers, **options) == serial


@pytest.mark.parametrize("interpolation", ["bilinear", "nearest", "bicubic"])
def test_a_batch_is_resized_as_its_images_one_by_one(tmp_path, interpolation):
    rng = np.random.default_rng(2)
    (tmp_path / "a").mkdir()
    for i in range(9):  # one size: the batch is resized in one call
        pixels = rng.integers(0, 256, size=(12, 10, 3)).astype("uint8")
        Image.fromarray(pixels).save(tmp_path / "a" / f"{i}.png")
    options = {"image_size": (7, 5), "interpolation": interpolation, "shuffle": False}
    batches = image_dataset_from_directory(tmp_path, batch_size=9, verbose=False, **options)
    singles = image_dataset_from_directory(tmp_path, batch_size=None, verbose=False, **options)
    images, _ = next(iter(batches))
    assert images.shape == (9, 7, 5, 3)
    for image, (single, _) in zip(images, singles, strict=True):
        assert torch.equal(image, single)


def test_processes_end_when_iteration_stops_early(folder):
    before = _children()
    ds = image_dataset_from_directory(
        folder, batch_size=2, image_size=(4, 4), seed=0, verbose=False, num_workers=3
    )
    assert len(list(ds.take(2))) == 2
    assert _children() - before == set()
    for _ in ds:
        assert len(_children() - before) == 3
        break
    assert _children() - before == set()
    iterator = iter(ds)
    next(iterator)
    del iterator
    gc.collect()
    assert _children() - before == set()
    iterator = iter(ds)
    next(iterator)
    del ds, iterator  # the dataset too
    gc.collect()
    assert _children() - before == set()
    (folder / "a" / "zz.png").write_bytes(b"not a png")
    broken = image_dataset_from_directory(
        folder, batch_size=2, image_size=(4, 4), shuffle=False, verbose=False, num_workers=3
    )
    # the worker's error, with the file's name, raised in this process at the batch's turn
    with pytest.raises(ValueError, match="image_dataset_from_directory: .*zz.png"):
        list(broken)
    assert _children() - before == set()
    assert _worker_threads() == []


def test_processes_decode_for_fit_across_epochs_and_fill_the_cache(
    folder, tmp_path, monkeypatch, no_new_children
):
    log = tmp_path / "read.txt"  # the forked workers inherit the patch and append here
    log.touch()
    original = _image_dataset.load_image

    def logged(path, mode):
        with open(log, "a") as file:
            file.write(path + "\n")
        return original(path, mode)

    monkeypatch.setattr(_image_dataset, "load_image", logged)
    ds = image_dataset_from_directory(
        folder, batch_size=8, image_size=(6, 6), seed=0, verbose=False, num_workers=2
    )
    model = cnnkit.Sequential(
        [
            cnnkit.Input(shape=(6, 6, 3)),
            cnnkit.layers.GlobalAveragePooling2D(),
            cnnkit.layers.Dense(3, activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    history = model.fit(ds, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2
    assert sorted(log.read_text().splitlines()) == sorted(ds.file_paths * 2)  # read each epoch
    log.write_text("")
    model.fit(ds.cache(), epochs=3, verbose=0)
    assert sorted(log.read_text().splitlines()) == sorted(ds.file_paths)  # once, then cached


def test_default_is_processes_for_a_large_set_on_several_cores(folder, monkeypatch):
    monkeypatch.delenv("CNNKIT_DATA_WORKERS", raising=False)
    monkeypatch.setattr(_image_dataset, "can_fork", lambda: True)
    monkeypatch.setattr(torch, "get_num_threads", lambda: 1)
    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    assert _image_dataset._default_processes(999) == 0  # too few to pay the start
    assert _image_dataset._default_processes(1000) == 4
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    assert _image_dataset._default_processes(20000) == 2
    monkeypatch.setattr(torch, "get_num_threads", lambda: 2)
    assert _image_dataset._default_processes(20000) == 2  # the pass lowers PyTorch's threads
    monkeypatch.setattr(os, "cpu_count", lambda: 1)
    assert _image_dataset._default_processes(20000) == 0
    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    monkeypatch.setattr(_image_dataset, "can_fork", lambda: False)
    assert _image_dataset._default_processes(20000) == 0  # spawn would import torch again
    monkeypatch.setattr(_image_dataset, "can_fork", lambda: True)
    monkeypatch.setenv("CNNKIT_DATA_WORKERS", "1")
    assert _image_dataset._default_processes(10) == 1
    monkeypatch.setattr(_image_dataset, "_PROCESSES_FROM_FILES", 10)
    monkeypatch.delenv("CNNKIT_DATA_WORKERS")
    before = _children()
    ds = image_dataset_from_directory(folder, batch_size=4, image_size=(4, 4), verbose=False)
    for _ in ds:
        assert len(_children() - before) == 4
        break


def _double(item):
    if item == 3:
        raise KeyError(item)
    return item * 2


@pytest.fixture
def two_threads():
    """PyTorch on 2 intra-op threads for the test, as it was afterwards."""
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(before)


def test_a_pass_with_workers_leaves_them_cores_and_puts_threads_back(
    folder, monkeypatch, two_threads, no_new_children
):
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    ds = image_dataset_from_directory(
        folder, batch_size=4, image_size=(4, 4), verbose=False, num_workers=1
    )
    seen = [torch.get_num_threads() for _ in ds]
    assert seen == [1] * len(ds)  # 2 cores - 1 worker
    assert torch.get_num_threads() == 2
    for _ in ds:  # abandoned mid-pass: closing the pass puts the threads back
        assert torch.get_num_threads() == 1
        break
    assert torch.get_num_threads() == 2
    outer = iter(ds)
    next(outer)
    inner = iter(ds)
    next(inner)
    inner.close()  # an overlapping pass ends: the other still runs beside its workers
    assert torch.get_num_threads() == 1
    outer.close()
    assert torch.get_num_threads() == 2
    serial = image_dataset_from_directory(
        folder, batch_size=4, image_size=(4, 4), verbose=False, num_workers=0
    )
    assert {torch.get_num_threads() for _ in serial} == {2}  # no workers: nothing lowered
    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    assert {torch.get_num_threads() for _ in ds} == {2}  # cores to spare: never raised


def test_process_map_is_ordered_bounded_and_raises_at_the_items_turn(no_new_children):
    started = []
    items = (started.append(i) or i for i in range(40) if i != 3)
    stream = ordered_process_map(_double, items, workers=2, ahead=3)
    assert next(stream) == 0 and len(started) == 3  # two results waiting besides this one
    assert list(stream) == [2 * i for i in range(1, 40) if i != 3]
    stream = ordered_process_map(_double, range(10), workers=2)
    assert [next(stream) for _ in range(3)] == [0, 2, 4]
    with pytest.raises(KeyError):
        next(stream)


def _array_like(item):
    """Arrays of several kinds, a list, or errors a worker must report, by ``item``."""
    if item == "big-endian":
        return np.arange(6, dtype=">f4").reshape(2, 3)
    if item == "empty":
        return np.zeros((0, 4, 4, 3), np.uint8)
    if item == "strided":
        return np.arange(24, dtype=np.int64).reshape(4, 6)[:, ::2]
    if item == "list":
        return [np.ones((2, 2), np.uint8), np.zeros((3, 1), np.uint8)]
    if item == "unpicklable":
        error = ValueError("bad file x.png")
        error.handle = threading.Lock()  # cannot be pickled: sent as its type and message
        raise error
    if item == "lock":
        return threading.Lock()  # a result that cannot be pickled
    if item == "die":
        os._exit(3)  # a worker killed (out of memory, a signal)
    return np.full((128, 64, 64, 3), item, np.uint8)  # 1.5 MB: larger than a pipe's buffer


def test_process_map_sends_arrays_whole_and_names_what_went_wrong(no_new_children):
    items = [1, "big-endian", "empty", 2, "strided", "list", 3]
    got = list(ordered_process_map(_array_like, items, workers=2))
    assert [array.dtype for array in got[:3]] == [np.uint8, np.dtype(">f4"), np.uint8]
    np.testing.assert_array_equal(got[1], np.arange(6).reshape(2, 3))
    assert got[2].shape == (0, 4, 4, 3)
    np.testing.assert_array_equal(got[4], np.arange(24).reshape(4, 6)[:, ::2])
    assert [a.shape for a in got[5]] == [(2, 2), (3, 1)]
    assert [int(got[i][0, 0, 0, 0]) for i in (0, 3, 6)] == [1, 2, 3]
    assert got[6].shape == (128, 64, 64, 3) and (got[6] == 3).all()
    with pytest.raises(RuntimeError, match=r"ValueError: bad file x.png"):
        list(ordered_process_map(_array_like, [1, "unpicklable", 2], workers=2))
    with pytest.raises(RuntimeError, match=r"the worker's result cannot be sent back: .*lock"):
        list(ordered_process_map(_array_like, ["lock"], workers=1))
    with pytest.raises(RuntimeError, match=r"data worker process ended without an answer"):
        list(ordered_process_map(_array_like, [1, 2, "die", 4], workers=2))


def test_read_ahead_is_bounded():
    running, most = [0], [0]
    lock = threading.Lock()

    def slow(item):
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.002)
        with lock:
            running[0] -= 1
        return item * 2

    started = []
    items = (started.append(i) or i for i in range(40))
    stream = ordered_map(slow, items, workers=3, ahead=5)
    assert next(stream) == 0 and len(started) == 5  # four results waiting besides this one
    assert list(stream) == [2 * i for i in range(1, 40)]
    assert most[0] <= 3


def test_an_error_is_raised_at_its_items_turn():
    def fail_at_three(item):
        if item == 3:
            raise KeyError(item)
        return item

    stream = ordered_map(fail_at_three, range(10), workers=2)
    assert [next(stream) for _ in range(3)] == [0, 1, 2]
    with pytest.raises(KeyError):
        next(stream)
    assert _worker_threads() == []


def test_workers_from_the_environment_and_bad_counts(folder, monkeypatch):
    monkeypatch.setenv("CNNKIT_DATA_WORKERS", "0")
    monkeypatch.setattr(_image_dataset, "_PROCESSES_FROM_FILES", 1)
    before, seen = _children(), []
    ds = image_dataset_from_directory(folder, batch_size=4, image_size=(4, 4), verbose=False)
    for _ in ds:
        seen.append(len(_children() - before) + len(_worker_threads()))
    assert set(seen) == {0}  # decoded in the calling thread
    monkeypatch.setenv("CNNKIT_DATA_WORKERS", "many")
    with pytest.raises(ValueError, match=r"\$CNNKIT_DATA_WORKERS must be a non-negative integer"):
        image_dataset_from_directory(folder, verbose=False)
    monkeypatch.delenv("CNNKIT_DATA_WORKERS")
    with pytest.raises(
        ValueError, match="image_dataset_from_directory: workers must be a non-negative .*-1"
    ):
        image_dataset_from_directory(folder, verbose=False, num_workers=-1)


@pytest.mark.parametrize(
    "options",
    [
        {"shuffle": False},
        {"seed": 1337, "validation_split": 0.2, "subset": "training"},
        {"seed": 1337, "validation_split": 0.2, "subset": "validation"},
        {"seed": 0, "label_mode": "categorical", "class_names": ["c", "a"]},
    ],
)
def test_files_split_and_labels_equal_tensorflow(folder, options):
    tf = pytest.importorskip("tensorflow")
    size = {"image_size": (6, 6), "batch_size": 4}
    expected = tf.keras.utils.image_dataset_from_directory(str(folder), **size, **options)
    ds = image_dataset_from_directory(folder, verbose=False, **size, **options)
    assert ds.file_paths == expected.file_paths and ds.class_names == expected.class_names
    if options.get("shuffle", True):
        return  # each library reshuffles at each pass with its own generator
    got = [labels.numpy() for _, labels in ds]
    want = [labels.numpy() for _, labels in expected]
    np.testing.assert_array_equal(np.concatenate(got), np.concatenate(want))


def test_cache_is_filled_by_an_epoch_of_fit(folder, monkeypatch):
    import cnnkit
    from cnnkit.utils import _image_dataset

    read = []
    original = _image_dataset.load_image
    monkeypatch.setattr(
        _image_dataset, "load_image", lambda path, mode: read.append(path) or original(path, mode)
    )
    ds = image_dataset_from_directory(
        folder, batch_size=8, image_size=(6, 6), seed=0, verbose=False
    ).cache()
    model = cnnkit.Sequential(
        [
            cnnkit.Input(shape=(6, 6, 3)),
            cnnkit.layers.GlobalAveragePooling2D(),
            cnnkit.layers.Dense(3, activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(ds, epochs=3, verbose=0)  # fit takes len(ds) batches, never the stream's end
    assert sorted(read) == sorted(ds.file_paths)  # each file decoded once, in the first epoch
