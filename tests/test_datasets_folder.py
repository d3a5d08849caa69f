"""The user's images: image_folder arrays and the streaming ImageFolderDataset."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from cnnkit.datasets import ImageFolderData, ImageFolderDataset, image_folder

# Each class paints its images with its own red value, so a label can be checked from pixels.
RED = {"bird": 50, "cat": 100, "dog": 150}


def save(path, red, green, size=(6, 5), fmt=None):
    """Save a uniform RGB image of ``size`` (height, width)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pixels = np.zeros((*size, 3), np.uint8)
    pixels[...] = (red, green, 7)
    Image.fromarray(pixels).save(path, format=fmt)


@pytest.fixture
def folder(tmp_path):
    """dog/, cat/ (one image in a nested folder), bird/, plus files that must be ignored."""
    root = tmp_path / "pets"
    for name in ("dog", "cat", "bird"):  # created out of alphabetical order on purpose
        for i in range(4):
            save(root / name / f"{name}{i}.png", RED[name], 10 * i)
    save(root / "cat" / "indoor" / "cat9.PNG", RED["cat"], 90)
    (root / "cat" / "notes.txt").write_text("not an image")
    (root / "dog" / "._dog0.png").write_bytes(b"macOS resource fork, not a PNG")
    (root / "README.md").write_text("top-level files are not classes")
    (root / ".thumbnails").mkdir()
    save(root / ".thumbnails" / "t.png", 1, 1)
    return root


def assert_labels_match_pixels(data: ImageFolderData) -> None:
    for image, label in zip(data.x, data.y, strict=True):
        assert RED[data.class_names[label]] == image[0, 0, 0]


def test_arrays_labels_and_class_order(folder):
    data = image_folder(folder, shuffle=False)

    assert data.class_names == ("bird", "cat", "dog")
    assert data.x.shape == (13, 6, 5, 3) and data.x.dtype == np.uint8
    assert data.y.dtype == np.int64 and data.y.tolist() == [0] * 4 + [1] * 5 + [2] * 4
    assert len(data) == 13
    assert_labels_match_pixels(data)
    relative = [Path(p).relative_to(folder).as_posix() for p in data.file_paths[4:9]]
    assert relative == [f"cat/cat{i}.png" for i in range(4)] + ["cat/indoor/cat9.PNG"]
    assert not any("._" in p or "thumbnails" in p for p in data.file_paths)


def test_shuffle_keeps_images_and_labels_together(folder):
    data = image_folder(folder, seed=3)
    assert sorted(data.y.tolist()) == [0] * 4 + [1] * 5 + [2] * 4
    assert data.y.tolist() != sorted(data.y.tolist())
    assert_labels_match_pixels(data)


@pytest.mark.parametrize("mode, channels", [("rgb", 3), ("grayscale", 1), ("rgba", 4)])
def test_color_modes(folder, mode, channels):
    data = image_folder(folder, color_mode=mode, shuffle=False)
    assert data.x.shape == (13, 6, 5, channels)
    if mode == "grayscale":  # ITU-R 601-2 luma, as Pillow's "L"
        assert data.x[0, 0, 0, 0] == round(50 * 299 / 1000 + 0 * 587 / 1000 + 7 * 114 / 1000)
    if mode == "rgba":
        assert (data.x[..., 3] == 255).all()


def test_image_size_resizes(folder):
    data = image_folder(folder, image_size=(16, 12), shuffle=False)
    assert data.x.shape == (13, 16, 12, 3)
    assert_labels_match_pixels(data)


def test_png_jpeg_bmp_gif_are_read(tmp_path):
    for fmt, ext in [("PNG", "png"), ("JPEG", "jpg"), ("BMP", "bmp"), ("GIF", "gif")]:
        save(tmp_path / "all" / ext / f"image.{ext}", 200, 40, fmt=fmt)
    data = image_folder(tmp_path / "all", shuffle=False)
    assert data.class_names == ("bmp", "gif", "jpg", "png")
    assert np.abs(data.x.astype(int) - [200, 40, 7]).max() <= 3  # JPEG is lossy


def test_mixed_sizes_need_image_size(folder):
    save(folder / "dog" / "big.png", RED["dog"], 0, size=(9, 9))
    with pytest.raises(
        ValueError, match=r"differ in size .*9x9 \(e\.g\. .*big\.png\).*image_size="
    ):
        image_folder(folder)
    assert image_folder(folder, image_size=(6, 5)).x.shape == (14, 6, 5, 3)


def test_corrupt_image_raises_or_is_skipped_with_a_warning(folder):
    (folder / "cat" / "broken.jpg").write_bytes(b"\xff\xd8\xff not really a jpeg")
    with pytest.raises(ValueError, match=r"cannot read image file .*broken\.jpg.*on_error='skip'"):
        image_folder(folder)

    with pytest.warns(UserWarning, match=r"skipped 1 unreadable file\(s\):\n  .*broken\.jpg"):
        data = image_folder(folder, on_error="skip", shuffle=False)
    assert len(data) == 13 and not any("broken" in p for p in data.file_paths)
    assert_labels_match_pixels(data)


def test_empty_class_folder_is_an_error(folder):
    (folder / "empty").mkdir()
    (folder / "empty" / "notes.txt").write_text("no images here")
    with pytest.raises(ValueError, match=r"class folder\(s\) 'empty' in .* hold no image files"):
        image_folder(folder)


def test_folder_without_class_folders_is_an_error(tmp_path):
    save(tmp_path / "flat" / "a.png", 1, 1)
    with pytest.raises(ValueError, match=r"has no class sub-folders: expected .*<class name>"):
        image_folder(tmp_path / "flat")


def test_missing_path_and_file_path(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"image folder '.*nowhere' does not exist"):
        image_folder(tmp_path / "nowhere")
    (tmp_path / "file.png").write_bytes(b"")
    with pytest.raises(ValueError, match="path must be a directory"):
        image_folder(tmp_path / "file.png")


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"validation_split": 0.2}, ValueError, "If subset is set, validation_split must be set"),
        ({"subset": "training"}, ValueError, "If subset is set, validation_split must be set"),
        ({"validation_split": 0.2, "subset": "training"}, ValueError, "needs a seed"),
        ({"validation_split": 1.5, "subset": "both", "seed": 1}, ValueError, "between 0 and 1"),
        ({"validation_split": "0.2", "subset": "both", "seed": 1}, TypeError, "validation_split"),
        ({"validation_split": 0.2, "subset": "test", "seed": 1}, ValueError, "subset must be one"),
        ({"validation_split": 0.2, "subset": "both", "seed": 1.5}, TypeError, "seed must be"),
        ({"color_mode": "RGB"}, ValueError, "color_mode must be one of 'rgb', 'grayscale', 'rgba'"),
        ({"on_error": "ignore"}, ValueError, "on_error must be 'raise' or 'skip'"),
        ({"class_names": ["cat", "lion"]}, ValueError, "class_names must name distinct sub"),
        ({"class_names": "cat"}, TypeError, "class_names must be a list"),
    ],
)
def test_argument_errors(folder, kwargs, error, message):
    with pytest.raises(error, match=message):
        image_folder(folder, **kwargs)


def test_split_is_disjoint_complete_and_reproducible(folder):
    training, validation = image_folder(folder, validation_split=0.25, subset="both", seed=7)
    assert len(validation) == int(0.25 * 13) and len(training) == 13 - len(validation)
    assert not set(training.file_paths) & set(validation.file_paths)
    assert len(set(training.file_paths) | set(validation.file_paths)) == 13
    assert_labels_match_pixels(training)
    assert_labels_match_pixels(validation)

    only = image_folder(folder, validation_split=0.25, subset="validation", seed=7)
    assert only.file_paths == validation.file_paths
    other = image_folder(folder, validation_split=0.25, subset="validation", seed=8)
    assert other.file_paths != validation.file_paths


def test_split_too_small_is_an_error(folder):
    with pytest.raises(ValueError, match=r"validation_split=0.05 of 13 images leaves 0"):
        image_folder(folder, validation_split=0.05, subset="training", seed=1)


def test_same_files_as_keras_for_the_same_seed(folder):
    dataset_utils = pytest.importorskip("keras.src.utils.dataset_utils")
    (folder / "dog" / "._dog0.png").unlink()  # Keras would list this hidden file; cnnkit skips it
    paths, labels, names = dataset_utils.index_directory(
        str(folder),
        "inferred",
        formats=(".bmp", ".gif", ".jpeg", ".jpg", ".png"),
        shuffle=True,
        seed=1337,
        verbose=False,
    )
    val_paths, val_labels = dataset_utils.get_training_or_validation_split(
        paths, labels, 0.3, "validation"
    )

    ours = image_folder(str(folder), validation_split=0.3, subset="validation", seed=1337)

    assert list(ours.class_names) == names
    assert list(ours.file_paths) == list(val_paths)
    assert ours.y.tolist() == list(val_labels)


def test_class_names_choose_and_order_classes(folder):
    data = image_folder(folder, class_names=["dog", "bird"], shuffle=False)
    assert data.class_names == ("dog", "bird")
    assert data.y.tolist() == [0] * 4 + [1] * 4
    assert_labels_match_pixels(data)


def test_streaming_dataset_with_a_dataloader(folder):
    dataset = ImageFolderDataset(folder, image_size=(8, 8))
    assert len(dataset) == 13 and dataset.class_names == ("bird", "cat", "dog")
    image, label = dataset[5]
    assert image.dtype == torch.uint8 and image.shape == (8, 8, 3) and isinstance(label, int)

    loader = torch.utils.data.DataLoader(dataset, batch_size=5, shuffle=True)
    seen = 0
    for images, labels in loader:
        assert images.shape[1:] == (8, 8, 3) and labels.dtype == torch.int64
        for image, label in zip(images, labels, strict=True):
            assert RED[dataset.class_names[label]] == image[0, 0, 0]
        seen += len(labels)
    assert seen == 13


def test_streaming_split_matches_image_folder(folder):
    arrays = image_folder(folder, validation_split=0.4, subset="training", seed=11)
    dataset = ImageFolderDataset(folder, validation_split=0.4, subset="training", seed=11)
    assert dataset.file_paths == arrays.file_paths
    assert dataset.labels.tolist() == arrays.y.tolist()
    with pytest.raises(ValueError, match="subset must be one of"):
        ImageFolderDataset(folder, validation_split=0.4, subset="both", seed=11)


def test_streaming_dataset_names_a_corrupt_file(folder):
    (folder / "bird" / "zz.png").write_bytes(b"\x89PNG broken")
    dataset = ImageFolderDataset(folder)
    with pytest.raises(ValueError, match=r"cannot read image file .*zz\.png"):
        dataset[dataset.file_paths.index(str(folder / "bird" / "zz.png"))]
