"""The issue's own criterion: what RandomFlip + RandomTranslation add to the time of an epoch of fit.

Run: python3 bench/bench_augment_fit.py [--rounds 7] [--images 10000] [--threads 2]
                                         [--model lenet5|small_cnn]
LeNet-5 for 32x32x3 images (the criterion; ``--model small_cnn`` takes cnnkit's default CNN,
545K parameters at 32x32x3, instead), batch 128, Adam, sparse labels, random float images; the
same network with ``RandomFlip(mode) + RandomTranslation(0.1, 0.1)`` in front, for RandomFlip's
default mode (both axes) and for 'horizontal' (the usual choice for photographs), once more
with the two layers run one after the other instead of fused (Sequential runs a RandomFlip
followed by a RandomTranslation as one pass), and once with fit's groups of batches turned
off (fit runs a model's first augmentation layers on up to four batches at once, ahead of
their steps; here one batch at a time). A control model has an augmentation layer that
leaves the images as they are: fit's grouped data path without the augmentation's work.
One epoch of each model per round, the models interleaved, each round starting with another
one; medians over the rounds after the first, and the median over rounds of each epoch
against the plain epoch of the same round. Target: augmentation costs <= 10% more time per
epoch.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np
import torch

import cnnkit
from cnnkit import layers
from cnnkit._fast import _ahead


class LayerByLayerTranslation(layers.RandomTranslation):
    """RandomTranslation as a subclass, which Sequential does not fuse with the RandomFlip
    before it: the two layers run one after the other, as they did before the fusion."""


class Unchanged(layers.RandomImageLayer):
    """An augmentation layer that returns its images as they are (the control)."""

    def _draw(self, x):
        return {}

    def _transform(self, x, transformation):
        return x


ONE_AT_A_TIME = "RandomFlip() + RandomTranslation, one batch at a time"


def lenet5(augmentation: list[layers.Layer]) -> cnnkit.Sequential:
    """LeNet-5 (tanh, average pooling, as the lecture) with ``augmentation`` in front."""
    model = cnnkit.Sequential([cnnkit.Input((32, 32, 3)), *augmentation])
    model.add(layers.Conv2D(6, 5, activation="tanh"))
    model.add(layers.AveragePooling2D(2))
    model.add(layers.Conv2D(16, 5, activation="tanh"))
    model.add(layers.AveragePooling2D(2))
    model.add(layers.Flatten())
    model.add(layers.Dense(120, activation="relu"))
    model.add(layers.Dense(84, activation="relu"))
    model.add(layers.Dense(10, activation="softmax"))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def small_cnn(augmentation: list[layers.Layer]) -> cnnkit.Sequential:
    """cnnkit's default CNN (``cnnkit.zoo`` small_cnn) at 32x32x3 with ``augmentation`` in front."""
    base = cnnkit.zoo.get("small_cnn", input_shape=(32, 32, 3))
    model = cnnkit.Sequential([cnnkit.Input((32, 32, 3)), *augmentation, *base.layers])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--images", type=int, default=10000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--model", choices=("lenet5", "small_cnn"), default="lenet5")
    args = parser.parse_args()
    build = lenet5 if args.model == "lenet5" else small_cnn
    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    x = rng.random((args.images, 32, 32, 3), dtype=np.float32)
    y = rng.integers(0, 10, args.images)
    models = {
        "no augmentation": build([]),
        "RandomFlip() + RandomTranslation": build(
            [layers.RandomFlip(seed=0), layers.RandomTranslation(0.1, 0.1, seed=0)]
        ),
        "RandomFlip('horizontal') + RandomTranslation": build(
            [layers.RandomFlip("horizontal", seed=0), layers.RandomTranslation(0.1, 0.1, seed=0)]
        ),
        "RandomFlip() + RandomTranslation, layer by layer": build(
            [layers.RandomFlip(seed=0), LayerByLayerTranslation(0.1, 0.1, seed=0)]
        ),
        ONE_AT_A_TIME: build(
            [layers.RandomFlip(seed=0), layers.RandomTranslation(0.1, 0.1, seed=0)]
        ),
        "control: grouped batches, images unchanged": build([Unchanged()]),
    }
    groups = _ahead.MAX_GROUP
    times: dict[str, list[float]] = {name: [] for name in models}
    load_before = os.getloadavg()[0]
    names = list(models)
    for run in range(args.rounds + 1):  # the first round warms up and is dropped
        for name in names[run % len(names) :] + names[: run % len(names)]:
            _ahead.MAX_GROUP = 1 if name == ONE_AT_A_TIME else groups
            start = time.perf_counter()
            models[name].fit(x, y, batch_size=128, epochs=1, verbose=0)
            times[name].append(time.perf_counter() - start)
    print(
        f"{args.model}, torch {torch.__version__}, threads {torch.get_num_threads()}, {args.images} images, "
        f"{args.rounds} rounds, load average {load_before:.1f} -> {os.getloadavg()[0]:.1f}"
    )
    plain = times["no augmentation"][1:]
    base = statistics.median(plain)
    for name, values in times.items():
        epoch = statistics.median(values[1:])
        extra = ""
        if name != "no augmentation":
            # Each round's epoch against the plain epoch of the same round: slow drifts of a
            # shared machine cancel out; the quartiles show what is left of the noise.
            ratios = [100 * (t / p - 1) for t, p in zip(values[1:], plain)]
            q1, median, q3 = statistics.quantiles(ratios, n=4)
            extra = (
                f"   {100 * (epoch / base - 1):+.1f}% per epoch; per round {median:+.1f}% "
                f"(quartiles {q1:+.1f}% to {q3:+.1f}%)"
            )
        print(f"{name:{max(map(len, times))}} {epoch:6.3f} s/epoch{extra}")


if __name__ == "__main__":
    main()
