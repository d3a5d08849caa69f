"""Per-dataset training defaults, so ``cnnkit train --dataset fashion_mnist`` alone trains well.

The numbers come from ``bench/bench_train_fashion.py`` (see ``bench/README_train.md``): AdamW
with a one-cycle learning rate (short warm-up, cosine decay) reaches a good model in few epochs,
which matters on a CPU. Every field can be overridden on the command line.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from cnnkit.cli._data import FOLDER


@dataclass(frozen=True)
class Recipe:
    """How to train on one dataset: model, length, batch, optimizer settings and input size."""

    model: str = "small_cnn"
    epochs: int = 15
    batch_size: int = 128
    learning_rate: float = 3e-3
    weight_decay: float = 5e-4
    augment: bool = False
    flip: bool = True  # with augment: mirror left-right (wrong for digits, fine for clothes)
    image_size: tuple[int, int] | None = None
    validation_split: float = 0.1


RECIPES: dict[str, Recipe] = {
    # 1,442 tiny images: small batches give enough steps; 32x32 so LeNet-5 fits too.
    "digits": Recipe(epochs=20, batch_size=32, flip=False, image_size=(32, 32)),
    "mnist": Recipe(epochs=8, flip=False),
    "fashion_mnist": Recipe(epochs=15),
    "cifar10": Recipe(epochs=30, augment=True),
    "cifar100": Recipe(epochs=40, augment=True),
    FOLDER: Recipe(epochs=20, batch_size=32),
}


def recipe_for(kind: str, **overrides: object) -> Recipe:
    """The recipe of dataset ``kind`` with every override that is not None applied."""
    given = {key: value for key, value in overrides.items() if value is not None}
    return replace(RECIPES[kind], **given)
