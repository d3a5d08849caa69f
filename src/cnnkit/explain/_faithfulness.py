"""Is a map faithful? Delete the pixels it ranks highest and see whether the class probability
falls further than when as many random pixels are deleted (the deletion test of Petsiuk et
al., 2018, at one fraction)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from cnnkit._arrays import to_numpy
from cnnkit._validation import check_int, check_number
from cnnkit.explain._gradients import predicted_classes
from cnnkit.explain._model import batches, explaining, images_tensor, resolve_target, to_host

OWNER = "deletion_score"


@dataclass(frozen=True)
class DeletionScore:
    """Per-image probabilities of the explained class before and after deletion.

    Attributes:
        classes: (n,) the class explained for each image.
        original: (n,) its probability on the intact image.
        map_deleted: (n,) its probability with the map's top pixels deleted.
        random_deleted: (n,) its mean probability over ``random_repeats`` deletions of as
            many random pixels.
        pixels: pixels deleted per image.
    """

    classes: np.ndarray
    original: np.ndarray
    map_deleted: np.ndarray
    random_deleted: np.ndarray
    pixels: int

    @property
    def map_drop(self) -> np.ndarray:
        """(n,) how much deleting the map's top pixels lowers the probability."""
        return self.original - self.map_deleted

    @property
    def random_drop(self) -> np.ndarray:
        """(n,) how much deleting random pixels lowers the probability (mean of repeats)."""
        return self.original - self.random_deleted

    @property
    def map_wins(self) -> np.ndarray:
        """(n,) True where the map's deletion lowers the probability more than random."""
        return self.map_drop > self.random_drop

    @property
    def win_rate(self) -> float:
        """The fraction of images where the map beats random deletion (NaN for no images)."""
        return float(self.map_wins.mean()) if len(self.classes) else float("nan")

    def summary(self) -> dict[str, float]:
        """Mean drops and the win rate, for a log line or a table."""
        return {
            "images": len(self.classes),
            "pixels_deleted": self.pixels,
            "mean_map_drop": float(self.map_drop.mean()) if len(self.classes) else float("nan"),
            "mean_random_drop": (
                float(self.random_drop.mean()) if len(self.classes) else float("nan")
            ),
            "win_rate": self.win_rate,
        }


def deletion_score(
    model: Any,
    images: Any,
    maps: Any,
    target: Any = None,
    fraction: float = 0.2,
    baseline: float | str = 0.0,
    seed: int = 0,
    random_repeats: int = 5,
    batch_size: int = 256,
) -> DeletionScore:
    """Delete each image's top ``fraction`` of pixels by its map, and as many random pixels,
    and report how far the explained class's probability falls in each case.

    A map that shows what the network looks at should make the probability fall further than
    random deletion does. A deleted pixel takes ``baseline`` in every channel. Ties in a map
    (e.g. Grad-CAM's zeros) are broken by pixel order. Random pixels come from
    ``numpy.random.default_rng(seed)``; the global random states are untouched. Probabilities
    are the model's outputs when they are probabilities (rows non-negative and summing to 1, as
    after softmax), else the softmax of the outputs.

    Two cautions. Deleting pixels that already hold ``baseline`` changes nothing, so a map that
    points at an empty background (a model reading a shape from the space around it) scores
    no drop. And a model never shown missing pixels may lose much of its probability to any
    scattered holes, so random deletion drops a lot too; training behind an input
    ``Dropout`` keeps the comparison about where the model looks.

    Args:
        model: a built cnnkit model with one image input and one output of class scores.
        images: (n, height, width, channels) images as for ``predict``.
        maps: (n, height, width) maps from any ``cnnkit.explain`` method (higher = more
            important).
        target: ``None`` (predicted class), a class index, one per image, or class names.
        fraction: share of each image's pixels deleted, in (0, 1].
        baseline: the value a deleted pixel takes, or ``"mean"`` for the image's own mean of
            each channel.
        seed: seeds the random deletions.
        random_repeats: random deletions averaged per image.
        batch_size: images per forward pass (each pass holds ``1 + random_repeats`` copies of
            each image, plus the intact one).

    Returns:
        A :class:`DeletionScore`; ``.win_rate`` is the fraction of images where the map's
        deletion lowers the probability more than random deletion.

    Example:
        >>> maps = grad_cam(model, x_test[:100])  # doctest: +SKIP
        >>> deletion_score(model, x_test[:100], maps).win_rate  # doctest: +SKIP
        0.93
    """
    batch = images_tensor(model, images, OWNER)
    ranking = _check_maps(maps, tuple(batch.shape[:3]))
    fraction = check_number(
        fraction, "fraction", OWNER, minimum=0, maximum=1, exclusive_minimum=True
    )
    fill = _check_baseline(baseline)
    seed = check_int(seed, "seed", OWNER, minimum=0)
    random_repeats = check_int(random_repeats, "random_repeats", OWNER, minimum=1)
    batch_size = check_int(batch_size, "batch_size", OWNER, minimum=1)
    target = resolve_target(model, target, len(batch), OWNER)
    height, width = batch.shape[1:3]
    pixels = max(1, round(fraction * height * width))
    generator = np.random.default_rng(seed)  # one stream: the same draws for any batch_size
    probabilities = []
    with explaining(model, gradients=False):
        classes = predicted_classes(model, batch, target, batch_size)
        for rows in batches(len(batch), batch_size):
            deleted = _deleted_pixels(ranking[rows], pixels, random_repeats, generator)
            probabilities.append(
                _deletion_probabilities(model, batch[rows], deleted, fill, classes[rows])
            )
    joined = torch.cat(probabilities) if probabilities else torch.zeros((0, 2 + random_repeats))
    result = to_host(joined).astype(np.float64)
    return DeletionScore(
        classes=to_host(classes),
        original=result[:, 0],
        map_deleted=result[:, 1],
        random_deleted=result[:, 2:].mean(axis=1),
        pixels=pixels,
    )


def _check_maps(maps: Any, shape: tuple[int, int, int]) -> np.ndarray:
    """The maps as a float (n, h, w) array that matches the images."""
    array = to_numpy(maps, "maps", OWNER)
    if array.ndim == 4 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.shape != shape:
        raise ValueError(
            f"{OWNER}: maps must be one (height, width) map per image, shape {shape}; "
            f"received shape {array.shape}"
        )
    if not np.issubdtype(array.dtype, np.number) or not np.isfinite(array).all():
        raise ValueError(f"{OWNER}: maps must hold finite numbers (no NaN or infinity)")
    return array.astype(np.float64)


def _check_baseline(baseline: Any) -> float | None:
    """A number, or None for each image's channel means (``"mean"``)."""
    if isinstance(baseline, str):
        if baseline == "mean":
            return None
        raise ValueError(
            f"{OWNER}: baseline must be a number or 'mean'. Received: baseline={baseline!r}"
        )
    if not isinstance(baseline, (int, float, np.number)) or isinstance(baseline, bool):
        raise TypeError(
            f"{OWNER}: baseline must be a number or 'mean'. Received: baseline={baseline!r}"
        )
    return check_number(baseline, "baseline", OWNER)


def _deleted_pixels(
    ranking: np.ndarray, pixels: int, repeats: int, generator: np.random.Generator
) -> torch.Tensor:
    """Flat pixel indices (n, 1 + repeats, pixels): the map's top pixels, then random draws."""
    n, height, width = ranking.shape
    top = np.argsort(-ranking.reshape(n, -1), axis=1, kind="stable")[:, :pixels]
    draws = generator.random((n, repeats, height * width)).argsort(axis=2)[:, :, :pixels]
    return torch.as_tensor(np.concatenate([top[:, None], draws], axis=1))


def _deletion_probabilities(
    model: Any, batch: torch.Tensor, deleted: torch.Tensor, fill: float | None, classes: Any
) -> torch.Tensor:
    """Class probabilities (rows, 2 + repeats): intact, map-deleted, then each random deletion."""
    rows, height, width, channels = batch.shape
    copies = deleted.shape[1]
    mask = torch.zeros((rows, copies, height * width), dtype=torch.bool, device=batch.device)
    mask.scatter_(2, deleted.to(batch.device), True)
    mask = mask.view(rows, copies, height, width, 1)
    if fill is None:
        value = batch.mean(dim=(1, 2), keepdim=True)[:, None]  # (rows, 1, 1, 1, channels)
    else:
        value = torch.tensor(fill, dtype=batch.dtype, device=batch.device)
    deleted_images = torch.where(mask, value, batch[:, None])
    inputs = torch.cat([batch, deleted_images.view(-1, height, width, channels)])
    probabilities = _as_probabilities(model(inputs))
    chosen = torch.cat([classes, classes.repeat_interleave(copies)])
    picked = probabilities.gather(1, chosen.view(-1, 1)).squeeze(1)
    return torch.cat([picked[:rows, None], picked[rows:].view(rows, copies)], dim=1)


def _as_probabilities(outputs: torch.Tensor) -> torch.Tensor:
    """The outputs if they are probability rows already, else their softmax."""
    sums = outputs.sum(dim=1)
    if bool((outputs >= 0).all()) and bool(torch.allclose(sums, torch.ones_like(sums), atol=1e-3)):
        return outputs
    return torch.softmax(outputs, dim=1)
