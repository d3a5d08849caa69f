"""image_dataset_from_directory against Keras: its own indexing helpers decide the files, labels
and split, and its image loader (the Pillow path, on the torch backend) the pixel values."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch

import cnnkit
from cnnkit.utils import Dataset, image_dataset_from_directory

dataset_utils = pytest.importorskip("keras.src.utils.dataset_utils")
image_dataset_utils = pytest.importorskip("keras.src.utils.image_dataset_utils")
Image = pytest.importorskip("PIL.Image")

FORMATS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")


@pytest.fixture
def folder(tmp_path):
    """Three classes (one written out of order, one with a sub-folder) of images of several sizes."""
    rng = np.random.default_rng(0)
    counts = {"dog": 5, "cat": 4, "bird": 3}
    for name, count in counts.items():
        for i in range(count):
            height, width = (int(v) for v in rng.integers(6, 20, size=2))
            pixels = rng.integers(0, 256, size=(height, width, 3)).astype("uint8")
            sub = tmp_path / name / ("nested" if i == 0 else "")
            sub.mkdir(parents=True, exist_ok=True)
            Image.fromarray(pixels).save(sub / f"{i}.{'jpg' if i % 2 else 'png'}")
    (tmp_path / "dog" / "notes.txt").write_text("not an image")
    return tmp_path


def _keras_files(directory, seed, split=None, subset=None, shuffle=True, **kwargs):
    paths, labels, names = dataset_utils.index_directory(
        str(directory),
        kwargs.get("labels", "inferred"),
        formats=FORMATS,
        class_names=kwargs.get("class_names"),
        shuffle=shuffle,
        seed=seed,
        verbose=False,
    )
    paths, labels = dataset_utils.get_training_or_validation_split(paths, labels, split, subset)
    return paths, (None if labels is None else list(labels)), names


def _samples(dataset):
    images, labels = [], []
    for x, y in dataset.unbatch():
        images.append(x.numpy())
        labels.append(int(y))
    return images, labels


@pytest.mark.parametrize("subset", ["training", "validation"])
@pytest.mark.parametrize("seed", [0, 1337])
def test_files_labels_and_split_equal_keras(folder, seed, subset):
    paths, labels, names = _keras_files(folder, seed, 0.3, subset)
    ds = image_dataset_from_directory(
        folder, seed=seed, validation_split=0.3, subset=subset, shuffle=False, verbose=False
    )
    shuffled = image_dataset_from_directory(
        folder, seed=seed, validation_split=0.3, subset=subset, image_size=(4, 4), verbose=False
    )
    assert shuffled.file_paths == paths
    assert shuffled.class_names == names == ["bird", "cat", "dog"]
    unshuffled_paths, unshuffled_labels, _ = _keras_files(folder, seed, 0.3, subset, shuffle=False)
    assert ds.file_paths == unshuffled_paths
    assert _samples(ds)[1] == unshuffled_labels
    # a shuffled pass visits each of Keras' files once, in an order of its own
    images, got = _samples(shuffled)
    assert len(images) == len(paths) and sorted(got) == sorted(labels)


def test_unshuffled_order_is_keras_and_both_gives_the_two_subsets(folder):
    ds = image_dataset_from_directory(folder, shuffle=False, image_size=(5, 5), verbose=False)
    paths, labels, _ = _keras_files(folder, None, shuffle=False)
    assert ds.file_paths == paths
    assert _samples(ds)[1] == labels
    train, val = image_dataset_from_directory(
        folder, seed=7, validation_split=0.25, subset="both", image_size=(5, 5), verbose=False
    )
    assert train.file_paths == _keras_files(folder, 7, 0.25, "training")[0]
    assert val.file_paths == _keras_files(folder, 7, 0.25, "validation")[0]
    assert _samples(val)[1] == _keras_files(folder, 7, 0.25, "validation")[1]  # not reshuffled


def test_class_names_and_given_labels_as_keras(folder):
    ds = image_dataset_from_directory(
        folder, class_names=["dog", "bird"], shuffle=False, image_size=(4, 4), verbose=False
    )
    paths, labels, names = _keras_files(folder, None, shuffle=False, class_names=["dog", "bird"])
    assert (ds.file_paths, _samples(ds)[1], ds.class_names) == (paths, labels, names)
    given = [i % 3 for i in range(12)]
    ds = image_dataset_from_directory(
        folder, labels=given, seed=5, image_size=(4, 4), verbose=False
    )
    paths, labels, names = _keras_files(folder, 5, labels=list(given))
    assert ds.file_paths == paths and ds.class_names == names == ["0", "1", "2"]
    unshuffled = image_dataset_from_directory(
        folder, labels=given, shuffle=False, image_size=(4, 4), verbose=False
    )
    assert _samples(unshuffled)[1] == given


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"interpolation": "nearest"},
        {"interpolation": "bicubic"},
        {"crop_to_aspect_ratio": True},
        {"pad_to_aspect_ratio": True},
        {"color_mode": "grayscale"},
        {"color_mode": "rgba"},
    ],
)
def test_pixels_equal_keras_image_loader(folder, options):
    size = (9, 13)
    ds = image_dataset_from_directory(
        folder, image_size=size, shuffle=False, batch_size=None, verbose=False, **options
    )
    channels = {"grayscale": 1, "rgb": 3, "rgba": 4}[options.get("color_mode", "rgb")]
    for (image, _), path in zip(ds, ds.file_paths, strict=True):
        expected = image_dataset_utils._load_image_grain(
            path,
            size,
            channels,
            options.get("interpolation", "bilinear"),
            "channels_last",
            options.get("crop_to_aspect_ratio", False),
            options.get("pad_to_aspect_ratio", False),
        )
        assert image.dtype == torch.float32 and image.shape == (*size, channels)
        np.testing.assert_allclose(image.numpy(), np.asarray(expected), atol=1e-3)


@pytest.mark.parametrize(
    ("label_mode", "shape", "dtype"),
    [("int", (4,), torch.int32), ("categorical", (4, 3), torch.float32), (None, None, None)],
)
def test_batches_per_label_mode(folder, label_mode, shape, dtype):
    ds = image_dataset_from_directory(
        folder, label_mode=label_mode, batch_size=4, image_size=(6, 7), seed=1, verbose=False
    )
    assert len(ds) == 3
    first = next(iter(ds))
    if label_mode is None:
        assert first.shape == (4, 6, 7, 3) and first.dtype == torch.float32
        return
    images, labels = first
    assert images.shape == (4, 6, 7, 3) and images.dtype == torch.float32
    assert labels.shape == shape and labels.dtype == dtype
    if label_mode == "categorical":
        assert torch.equal(labels.sum(1), torch.ones(4))
    assert 0 <= float(images.min()) and float(images.max()) <= 255


def test_binary_labels_and_channels_first(tmp_path):
    for name in ("cat", "dog"):
        (tmp_path / name).mkdir()
        for i in range(3):
            Image.fromarray(np.full((5, 5), 40 * i, "uint8")).save(tmp_path / name / f"{i}.png")
    ds = image_dataset_from_directory(
        tmp_path,
        label_mode="binary",
        shuffle=False,
        image_size=5,
        color_mode="grayscale",
        data_format="channels_first",
        verbose=False,
    )
    images, labels = next(iter(ds))
    assert images.shape == (6, 1, 5, 5)
    assert labels.dtype == torch.float32 and labels.flatten().tolist() == [0, 0, 0, 1, 1, 1]


def test_dataset_methods(folder):
    ds = image_dataset_from_directory(
        folder, batch_size=5, image_size=(4, 4), seed=2, verbose=False
    )
    assert len(ds) == 3 and ds.samples == 12
    assert len(ds.take(2)) == 2 and len(list(ds.take(2))) == 2
    assert ds.prefetch(cnnkit.data.AUTOTUNE) is ds and cnnkit.data.AUTOTUNE == -1
    scaled = ds.map(lambda x, y: (x / 255.0, y))
    assert scaled.class_names == ds.class_names
    assert all(float(x.max()) <= 1.0 for x, _ in scaled)
    single = ds.unbatch()
    assert len(single) == 12 and next(iter(single))[0].shape == (4, 4, 3)
    rebatched = single.batch(8)
    assert [len(y) for _, y in rebatched] == [8, 4] and len(rebatched) == 2
    assert [len(y) for _, y in single.batch(8, drop_remainder=True)] == [8]
    cached = ds.cache()
    first = [y.tolist() for _, y in cached]
    assert [y.tolist() for _, y in cached] == first  # replayed, not reshuffled
    orders = {tuple(tuple(y.tolist()) for _, y in ds) for _ in range(4)}
    assert len(orders) > 1  # the training set is reshuffled at each pass, as Keras'
    same_seed = Dataset.from_tensor_slices(np.arange(20)).shuffle(20, seed=3)
    assert list(map(int, same_seed)) != list(range(20))
    assert sorted(map(int, same_seed)) == list(range(20))
    arrays = list(ds.take(1).as_numpy_iterator())
    assert isinstance(arrays[0][0], np.ndarray)


def test_images_are_decoded_lazily(folder, tmp_path, monkeypatch):
    from cnnkit.utils import _image_dataset

    log = tmp_path / "read.txt"  # a file: worker processes (forked) append to it too
    log.touch()
    original = _image_dataset.load_image

    def logged(path, mode):
        with open(log, "a") as file:
            file.write(path + "\n")
        return original(path, mode)

    def read():
        return log.read_text().splitlines()

    monkeypatch.setattr(_image_dataset, "load_image", logged)
    ds = image_dataset_from_directory(
        folder, batch_size=2, image_size=(4, 4), shuffle=False, verbose=False, num_workers=0
    )
    assert read() == []
    next(iter(ds))
    assert read() == ds.file_paths[:2]  # one batch read, not the folder
    log.write_text("")
    in_processes = image_dataset_from_directory(
        folder, batch_size=2, image_size=(4, 4), shuffle=False, verbose=False, num_workers=1
    )
    iterator = iter(in_processes)
    next(iterator)
    del iterator  # the process ends; what it read is final
    # the first batch and at most one batch ahead of it (two in flight for one process)
    assert set(ds.file_paths[:2]) <= set(read()) <= set(ds.file_paths[:4])


def test_fit_evaluate_predict_take_the_dataset(folder):
    cnnkit.utils.set_random_seed(0)
    train, val = image_dataset_from_directory(
        folder,
        seed=3,
        validation_split=0.25,
        subset="both",
        image_size=(8, 8),
        batch_size=4,
        verbose=False,
    )
    model = cnnkit.Sequential(
        [
            cnnkit.Input(shape=(8, 8, 3)),
            cnnkit.layers.Rescaling(1 / 255),
            cnnkit.layers.Conv2D(2, 3, activation="relu"),
            cnnkit.layers.GlobalAveragePooling2D(),
            cnnkit.layers.Dense(3, activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(train, epochs=2, validation_data=val, verbose=0)
    assert len(history.history["val_loss"]) == 2
    loss, accuracy = model.evaluate(val, verbose=0)
    assert np.isfinite(loss) and 0 <= accuracy <= 1
    assert model.predict(val, verbose=0).shape == (3, 3)
    with pytest.raises(ValueError, match="yields single images, not batches"):
        model.fit(train.unbatch(), epochs=1, verbose=0)


def _error(folder, **kwargs):
    return image_dataset_from_directory(folder, verbose=False, **kwargs)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"label_mode": "sparse"}, ValueError, "label_mode must be 'int', 'categorical', 'binary'"),
        ({"labels": "folders"}, ValueError, "labels must be 'inferred'"),
        ({"labels": [0, 1]}, ValueError, "len\\(labels\\) is 2 while 12 files were found"),
        ({"labels": [0.5] * 12}, TypeError, "labels must be integers"),
        ({"labels": None, "class_names": ["cat"]}, ValueError, "class_names cannot be passed"),
        ({"class_names": ["cow"]}, ValueError, "class_names must name sub-folders"),
        ({"subset": "training"}, ValueError, "subset and validation_split go together"),
        ({"validation_split": 0.2}, ValueError, "subset and validation_split go together"),
        ({"validation_split": 0.2, "subset": "test", "seed": 1}, ValueError, "subset must be"),
        ({"validation_split": 0.2, "subset": "training"}, ValueError, "needs a seed"),
        ({"validation_split": 1.5, "subset": "training", "seed": 1}, ValueError, "between 0 and 1"),
        ({"validation_split": 0.01, "subset": "training", "seed": 1}, ValueError, "leaves none"),
        ({"label_mode": "binary"}, ValueError, "needs exactly 2 classes"),
        ({"color_mode": "cmyk"}, ValueError, "color_mode must be one of"),
        ({"image_size": (3, 0)}, ValueError, "image_size sides must be at least 1"),
        ({"image_size": "big"}, TypeError, "image_size must be None or a pair"),
        ({"batch_size": 0}, ValueError, "batch_size must be a positive integer or None"),
        ({"interpolation": "area"}, ValueError, "interpolation must be one of"),
        (
            {"crop_to_aspect_ratio": True, "pad_to_aspect_ratio": True},
            ValueError,
            "only one of crop_to_aspect_ratio and pad_to_aspect_ratio",
        ),
    ],
)
def test_bad_arguments_are_named(folder, kwargs, error, message):
    with pytest.raises(error, match=message):
        _error(folder, **kwargs)


def test_missing_and_empty_directories(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist or is not a directory"):
        _error(tmp_path / "nowhere")
    (tmp_path / "empty_class").mkdir()
    with pytest.raises(ValueError, match="no images found in directory .*Allowed formats"):
        _error(tmp_path)


def test_unreadable_file_is_named_when_its_batch_is_read(folder):
    bad = folder / "cat" / "broken.png"
    bad.write_bytes(b"not a png")
    ds = _error(folder, shuffle=False, image_size=(4, 4), batch_size=100)
    with pytest.raises(
        ValueError, match=f"image_dataset_from_directory: .*{os.path.basename(bad)}"
    ):
        list(ds)


def test_dataset_method_arguments_are_checked():
    ds = Dataset.from_tensor_slices(np.arange(4))
    with pytest.raises(ValueError, match="batch_size must be >= 1"):
        ds.batch(0)
    with pytest.raises(TypeError, match="count must be an integer"):
        ds.take(1.5)
    with pytest.raises(TypeError, match="map_func must be callable"):
        ds.map(3)
    with pytest.raises(TypeError, match="length is unknown"):
        len(ds.map(lambda x: x).batch(2).map(lambda x: x).unbatch())
