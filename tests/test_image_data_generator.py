"""Keras 2's ImageDataGenerator: transformations against Keras 3's legacy copy of it (scipy's
warp) and NumPy, statistics against NumPy, iterators against Keras 2's documented behaviour
(order, subsets, lengths, class modes, seeds), training through fit and train_on_batch."""

from __future__ import annotations

import math
import os
import warnings

import numpy as np
import pytest

import cnnkit
from cnnkit.preprocessing import _image_data_generator
from cnnkit.preprocessing.image import ImageDataGenerator

Image = pytest.importorskip("PIL.Image")


def _generator(**kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return ImageDataGenerator(**kwargs)


def _keras_generator(**kwargs):
    legacy = pytest.importorskip("keras.src.legacy.preprocessing.image")
    pytest.importorskip("scipy")
    return legacy.ImageDataGenerator(**kwargs)


def _images(n=6, height=7, width=7, channels=3, seed=0):
    return np.random.default_rng(seed).uniform(0, 255, (n, height, width, channels))


# -- the transformations ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [
        {"theta": 90},
        {"theta": -90},
        {"theta": 170.0},
        {"theta": 23.0},
        {"tx": 2},
        {"ty": -3},
        {"tx": 1.5, "ty": 0.25},
        {"shear": 20.0},
        {"zx": 1.3, "zy": 0.8},
        {"theta": 30.0, "tx": 1, "shear": 10.0, "zx": 0.9, "zy": 1.1},
    ],
)
@pytest.mark.parametrize("fill_mode", ["nearest", "constant", "reflect", "wrap"])
def test_affine_part_equals_keras_legacy_generator(params, fill_mode):
    x = _images(1, 9, 9)[0]
    ours = _generator(fill_mode=fill_mode, cval=7.0).apply_transform(x.copy(), params)
    theirs = _keras_generator(fill_mode=fill_mode, cval=7.0).apply_transform(x.copy(), params)
    if fill_mode in ("nearest", "reflect"):
        np.testing.assert_allclose(ours, theirs, atol=1e-3)
    else:  # scipy fills a whole pixel with cval past the edge, and wraps with period n - 1
        np.testing.assert_allclose(ours[3:6, 3:6], theirs[3:6, 3:6], atol=1e-3)


def test_rotation_by_90_is_rot90_and_integer_shift_is_roll_with_fill():
    x = _images(1, 6, 6)[0]
    generator = _generator(fill_mode="constant", cval=-1.0)
    np.testing.assert_allclose(generator.apply_transform(x, {"theta": 90}), np.rot90(x), atol=1e-3)
    expected = np.roll(x, -2, axis=1)  # tx=2: output column c samples input column c + 2
    expected[:, -2:] = -1.0
    np.testing.assert_allclose(generator.apply_transform(x, {"tx": 2}), expected, atol=1e-3)
    expected = np.roll(x, 1, axis=0)
    expected[:1] = -1.0
    np.testing.assert_allclose(generator.apply_transform(x, {"ty": -1}), expected, atol=1e-3)


def test_flips_are_exact_and_flip_about_half_the_images():
    x = _images(1, 5, 4)[0].astype("float32")
    generator = _generator()
    np.testing.assert_array_equal(
        generator.apply_transform(x, {"flip_horizontal": True}), x[:, ::-1]
    )
    np.testing.assert_array_equal(generator.apply_transform(x, {"flip_vertical": True}), x[::-1])
    flipped = _generator(horizontal_flip=True).flow(np.stack([x] * 40), batch_size=40, seed=3)
    batch = next(flipped)
    assert all(np.array_equal(b, x) or np.array_equal(b, x[:, ::-1]) for b in batch)
    assert 5 < sum(np.array_equal(b, x[:, ::-1]) for b in batch) < 35


def test_channel_shift_and_brightness_equal_keras_legacy():
    x = _images(1, 6, 6)[0].round()
    for params in ({"channel_shift_intensity": 40.0}, {"brightness": 1.3}, {"brightness": 0.5}):
        ours = _generator().apply_transform(x.copy(), params)
        theirs = _keras_generator().apply_transform(x.copy(), params)
        np.testing.assert_allclose(ours, theirs, atol=1.0)  # Pillow rounds to whole pixels


def test_shift_ranges_move_along_their_axis():
    x = _images(1, 8, 10)[0]
    for name, size in (("width_shift_range", 10), ("height_shift_range", 8)):
        generator = _generator(**{name: 0.3})
        for seed in range(5):
            params = generator.get_random_transform(x.shape, seed=seed)
            moved, still = ("tx", "ty") if name == "width_shift_range" else ("ty", "tx")
            assert params[still] == 0 and abs(params[moved]) <= 0.3 * size


def test_integer_and_list_shift_ranges_draw_whole_pixels():
    generator = _generator(width_shift_range=2, height_shift_range=[-3, 5])
    drawn = [generator.get_random_transform((8, 8, 3), seed=s) for s in range(60)]
    assert {p["tx"] for p in drawn} == {-1.0, 0.0, 1.0}
    assert {p["ty"] for p in drawn} <= {-5.0, -3.0, 3.0, 5.0}


def test_random_transform_with_a_seed_is_reproducible():
    x = _images(1)[0]
    generator = _generator(rotation_range=40, zoom_range=0.2, shear_range=10, horizontal_flip=True)
    np.testing.assert_array_equal(
        generator.random_transform(x, seed=5), generator.random_transform(x, seed=5)
    )
    assert not np.allclose(
        generator.random_transform(x, seed=5), generator.random_transform(x, seed=6)
    )


# -- standardize and fit ---------------------------------------------------------------------


def test_rescale_and_preprocessing_function():
    x = _images(1)[0]
    generator = _generator(rescale=1 / 255, preprocessing_function=lambda image: image + 1)
    np.testing.assert_allclose(generator.standardize(x.copy()), (x + 1) / 255)


def test_featurewise_statistics_equal_numpy():
    x = _images(20, 5, 5, 3)
    generator = _generator(featurewise_center=True, featurewise_std_normalization=True, rescale=0.5)
    generator.fit(x)
    np.testing.assert_allclose(generator.mean.ravel(), (x * 0.5).mean(axis=(0, 1, 2)), rtol=1e-5)
    np.testing.assert_allclose(generator.std.ravel(), (x * 0.5).std(axis=(0, 1, 2)), rtol=1e-5)
    out = generator.standardize(x[0].astype("float32"))
    expected = (x[0] * 0.5 - generator.mean) / (generator.std + 1e-6)
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-4)


def test_fit_statistics_equal_keras_legacy_including_zca():
    x = _images(12, 4, 4, 1)
    for kwargs in ({"featurewise_center": True, "featurewise_std_normalization": True},
                   {"zca_whitening": True}):  # fmt: skip
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ours, theirs = _generator(**kwargs), _keras_generator(**kwargs)
        ours.fit(x)
        theirs.fit(x)
        sample = x[0].astype("float32")
        np.testing.assert_allclose(
            ours.standardize(sample.copy()), theirs.standardize(sample.copy()), rtol=1e-3, atol=1e-3
        )


def test_samplewise_center_and_std():
    x = _images(1)[0]
    out = _generator(samplewise_std_normalization=True).standardize(x.copy())
    np.testing.assert_allclose(out, (x - x.mean()) / (x.std() + 1e-6), rtol=1e-6)
    assert abs(out.mean()) < 1e-6


def test_implied_settings_and_unfitted_warnings():
    with pytest.warns(UserWarning, match="overrides the setting of `featurewise_center`"):
        generator = _generator(featurewise_std_normalization=True)
    assert generator.featurewise_center
    with pytest.warns(UserWarning, match="has not been fit"):
        generator.standardize(_images(1)[0])


def test_deprecation_warning_once(monkeypatch):
    monkeypatch.setattr(_image_data_generator, "_warned", False)
    with pytest.warns(DeprecationWarning, match="image_dataset_from_directory"):
        ImageDataGenerator()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ImageDataGenerator()


# -- flow ------------------------------------------------------------------------------------


def test_flow_batches_lengths_and_endless_cycle():
    x, y = _images(10), np.arange(10)
    batches = _generator().flow(x, y, batch_size=4, shuffle=False)
    assert len(batches) == math.ceil(10 / 4) and batches.n == 10 and batches.samples == 10
    sizes = [len(next(batches)[1]) for _ in range(7)]
    assert sizes == [4, 4, 2, 4, 4, 2, 4]
    first, labels = batches[0]
    np.testing.assert_allclose(first, x[:4].astype("float32"))
    np.testing.assert_array_equal(labels, y[:4])


def test_flow_shuffles_each_epoch_and_seeds_repeat():
    x, y = _images(12), np.arange(12)
    generator = _generator(rotation_range=30)
    one = [next(generator.flow(x, y, batch_size=12, seed=4))]
    two = [next(generator.flow(x, y, batch_size=12, seed=4))]
    np.testing.assert_array_equal(one[0][0], two[0][0])
    np.testing.assert_array_equal(one[0][1], two[0][1])
    stream = generator.flow(x, y, batch_size=12, seed=4)
    epochs = [next(stream)[1] for _ in range(3)]
    assert all(sorted(e) == list(range(12)) for e in epochs)
    assert not np.array_equal(epochs[0], epochs[1])


def test_flow_sample_weight_and_no_labels():
    x = _images(4)
    assert next(_generator().flow(x, batch_size=2)).shape == (2, 7, 7, 3)
    _, _, w = next(_generator().flow(x, np.zeros(4), sample_weight=np.arange(4.0), shuffle=False))
    np.testing.assert_array_equal(w, np.arange(4.0))


def test_flow_validation_subset_is_the_first_fraction():
    x, y = _images(10), np.array([0, 1] * 5)
    generator = _generator(validation_split=0.3)
    validation = generator.flow(x, y, shuffle=False, subset="validation")
    training = generator.flow(x, y, shuffle=False, subset="training")
    np.testing.assert_array_equal(validation.x, x[:3].astype("float32"))
    np.testing.assert_array_equal(training.x, x[3:].astype("float32"))
    with pytest.raises(ValueError, match="different classes"):
        generator.flow(x, np.array([0] * 5 + [1] * 5), subset="validation")


# -- flow_from_directory ---------------------------------------------------------------------


@pytest.fixture
def folder(tmp_path):
    """Classes 'dogs' (5 files, one nested), 'cats' (4) and 'birds' (3), 6x8 images."""
    rng = np.random.default_rng(0)
    for name, count in {"dogs": 5, "cats": 4, "birds": 3}.items():
        for i in range(count):
            sub = tmp_path / name / ("nested" if i == 0 else "")
            sub.mkdir(parents=True, exist_ok=True)
            pixels = rng.integers(0, 256, size=(6, 8, 3)).astype("uint8")
            Image.fromarray(pixels).save(sub / f"{i}.png")
    (tmp_path / "dogs" / "notes.txt").write_text("not an image")
    return tmp_path


def test_flow_from_directory_classes_filenames_and_modes(folder, capsys):
    generator = _generator()
    batches = generator.flow_from_directory(folder, target_size=(6, 8), batch_size=5, shuffle=False)
    assert "Found 12 images belonging to 3 classes." in capsys.readouterr().out
    assert batches.class_indices == {"birds": 0, "cats": 1, "dogs": 2}
    assert batches.filenames[:3] == [os.path.join("birds", f"{i}.png") for i in (1, 2)] + [
        os.path.join("birds", "nested", "0.png")
    ]
    np.testing.assert_array_equal(batches.classes, [0] * 3 + [1] * 4 + [2] * 5)
    assert (len(batches), batches.samples, batches.num_classes) == (3, 12, 3)
    x, y = batches[0]
    expected = np.asarray(Image.open(folder / "birds" / "1.png"), dtype="float32")
    np.testing.assert_array_equal(x[0], expected)
    np.testing.assert_array_equal(y, np.eye(3)[[0, 0, 0, 1, 1]])
    for mode, check in (
        ("sparse", lambda x, y: np.array_equal(y, [0, 0, 0, 1, 1])),
        ("input", lambda x, y: np.array_equal(x, y)),
        (None, lambda x, y: y is None and x.shape == (5, 6, 8, 3)),
    ):
        got = generator.flow_from_directory(
            folder, (6, 8), class_mode=mode, batch_size=5, shuffle=False
        )[0]
        assert check(*(got if mode else (got, None)))
    binary = generator.flow_from_directory(
        folder, (6, 8), classes=["dogs", "cats"], class_mode="binary"
    )
    assert binary.class_indices == {"dogs": 0, "cats": 1} and binary.samples == 9


def test_flow_from_directory_subsets_split_each_class(folder):
    generator = _generator(validation_split=0.5)
    validation = generator.flow_from_directory(folder, (6, 8), subset="validation", shuffle=False)
    training = generator.flow_from_directory(folder, (6, 8), subset="training", shuffle=False)
    assert validation.samples + training.samples == 12
    np.testing.assert_array_equal(validation.classes, [0, 1, 1, 2, 2])
    assert not set(validation.filenames) & set(training.filenames)


def test_flow_from_directory_grayscale_and_seeded_order(folder):
    generator = _generator(rotation_range=20)
    one = generator.flow_from_directory(
        folder, (4, 4), color_mode="grayscale", seed=2, batch_size=4
    )
    two = generator.flow_from_directory(
        folder, (4, 4), color_mode="grayscale", seed=2, batch_size=4
    )
    a, b = next(one), next(two)
    assert a[0].shape == (4, 4, 4, 1)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])


# -- training --------------------------------------------------------------------------------


def _model():
    model = cnnkit.Sequential(
        [
            cnnkit.Input(shape=(6, 8, 3)),
            cnnkit.layers.Conv2D(2, 3, activation="relu"),
            cnnkit.layers.GlobalAveragePooling2D(),
            cnnkit.layers.Dense(3, activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def test_fit_takes_the_iterators(folder):
    generator = _generator(rescale=1 / 255, horizontal_flip=True, validation_split=0.5)
    train = generator.flow_from_directory(folder, (6, 8), batch_size=4, subset="training", seed=1)
    validation = generator.flow_from_directory(folder, (6, 8), batch_size=4, subset="validation")
    history = _model().fit(
        train, steps_per_epoch=2, epochs=2, validation_data=validation.take(2), verbose=0
    )
    assert len(history.history["loss"]) == 2 and "val_accuracy" in history.history
    assert train.total_batches_seen == 4


def test_train_on_batch_loop_with_flow():
    x, y = _images(8, 6, 8), np.eye(3)[np.arange(8) % 3]
    model = _model()
    batches = _generator(rescale=1 / 255, width_shift_range=0.1).flow(x, y, batch_size=4, seed=0)
    for _ in range(3):
        loss = model.train_on_batch(*next(batches))
    assert np.isfinite(np.asarray(loss, dtype=float)).all()


# -- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"data_format": "channels_first"}, ValueError, "data_format must be 'channels_last'"),
        ({"zoom_range": [1, 2, 3]}, ValueError, "zoom_range must be a float or a list of two"),
        ({"brightness_range": 0.5}, ValueError, "Received: brightness_range=0.5"),
        ({"fill_mode": "mirror"}, ValueError, "fill_mode must be one of"),
        ({"rotation_range": -5}, ValueError, "Received: rotation_range=-5"),
        ({"validation_split": 1.5}, ValueError, "validation_split must be"),
        ({"width_shift_range": "a"}, TypeError, "width_shift_range must be"),
        ({"horizontal_flip": 1}, TypeError, "horizontal_flip must be a bool"),
        ({"dtype": "int32"}, TypeError, "dtype must be a floating dtype"),
        ({"preprocessing_function": 3}, TypeError, "preprocessing_function must be"),
    ],
)
def test_bad_constructor_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        _generator(**kwargs)


def test_bad_flow_arguments(folder):
    generator = _generator()
    with pytest.raises(ValueError, match=r"x must have rank 4.*\(7, 7, 3\)"):
        generator.flow(_images(1)[0])
    with pytest.raises(ValueError, match="x and y must have the same length"):
        generator.flow(_images(3), np.arange(2))
    with pytest.raises(ValueError, match="needs the ImageDataGenerator's validation_split"):
        generator.flow(_images(3), subset="training")
    with pytest.raises(ValueError, match="class_mode must be one of"):
        generator.flow_from_directory(folder, class_mode="onehot")
    with pytest.raises(ValueError, match="classes must name sub-folders"):
        generator.flow_from_directory(folder, classes=["cows"])
    with pytest.raises(IndexError, match=r"index must be in \[0, 1\)"):
        generator.flow(_images(3))[1]
