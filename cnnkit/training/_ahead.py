"""fit takes a few batches of in-memory data at once and runs a model's first random
augmentation layers on them ahead of their steps: one gather and one augmentation call per
group of batches (their Python work spread over more images) instead of one per batch, with
the same batches, the same draws and the same images."""

from __future__ import annotations

from collections.abc import Callable

import torch

from cnnkit.layers._augment_base import RandomImageLayer
from cnnkit.training._data import ArrayData, LoaderData

GROUP_BYTES = 8 * 2**20  # the images of a group: a few MiB, well within the last-level cache
MAX_GROUP = 4  # more batches of 32x32x3 images gained nothing more (bench/README_augment.md)


def augmentation_prefix(model) -> int:
    """How many of the model's first layers fit runs ahead of the step: random augmentation
    layers (each image transformed on its own, with no weights to train) called plainly (no
    activity penalty); the last layer always stays in the step."""
    if not hasattr(model, "run_layers"):
        return 0
    count = 0
    for layer in model.layers[:-1]:
        if not (isinstance(layer, RandomImageLayer) and layer.plain_call):
            break
        count += 1
    return count


def group_size(data: ArrayData | LoaderData, batch_size: int) -> int:
    """How many batches of ``data`` to take at once: as many as fit in GROUP_BYTES, at most
    MAX_GROUP, at least one."""
    if not isinstance(data, ArrayData):
        return 1
    batch_bytes = data.x[:1].nbytes * batch_size
    return max(1, min(MAX_GROUP, GROUP_BYTES // max(batch_bytes, 1)))


def run_ahead(model, prefix: int) -> Callable[[torch.Tensor], torch.Tensor] | None:
    """The function that runs the model's first ``prefix`` layers on a group of images (in
    training mode, outside autograd: the augmentation layers have nothing to learn); None
    when ``prefix`` is 0."""
    if not prefix:
        return None

    def prepare(images: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return model.run_layers(images, stop=prefix)

    return prepare
