"""How often a Grad-CAM map's top pixels matter more than random ones, on Fashion-MNIST.

Run: python3 bench/bench_deletion.py [--train-size 6000] [--epochs 2] [--width 32]
                                     [--units 128] [--baseline 0] [--seeds 5]
For each seed: small_cnn (``width``, ``units``, no dropout in the head when ``--width`` is below
32) behind an input Dropout(0.2), trained with Adam on the first ``--train-size`` training images,
then ``cnnkit.explain.deletion_score`` (20% of the pixels, ``--baseline``) on the correctly
classified images among the first 300 test images, for Grad-CAM at the default layer and at
every convolution, activation and pooling layer, and for Grad-CAM++. Prints one line per seed
with the test accuracy on those 300 images and each map's win rate (the share of images where
deleting the map's top pixels lowers the true class's probability more than random deletion).
"""

from __future__ import annotations

import argparse
import time

import cnnkit
from cnnkit import explain


def trained_model(x, y, seed: int, args: argparse.Namespace):
    """small_cnn behind an input dropout, trained from ``seed``."""
    cnnkit.utils.set_random_seed(seed)
    head_dropout = 0.3 if args.width >= 32 else 0.0
    body = cnnkit.zoo.get(
        "small_cnn", width=args.width, units=args.units, dropout=head_dropout
    ).layers
    model = cnnkit.Sequential([cnnkit.layers.Input((28, 28, 1)), cnnkit.layers.Dropout(0.2)] + body)
    model.compile("adam", "sparse_categorical_crossentropy", ["accuracy"])
    size = args.train_size
    model.fit(x[:size, ..., None] / 255.0, y[:size], batch_size=64, epochs=args.epochs, verbose=0)
    return model


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--train-size", type=int, default=6000)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--width", type=int, default=32)
    parser.add_argument("--units", type=int, default=128)
    parser.add_argument("--baseline", default="0")
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args()
    baseline = args.baseline if args.baseline == "mean" else float(args.baseline)
    (x, y), (x_test, y_test) = cnnkit.datasets.fashion_mnist.load_data()
    for seed in range(args.seeds):
        start = time.perf_counter()
        model = trained_model(x, y, seed, args)
        images, labels = x_test[:300, ..., None] / 255.0, y_test[:300]
        right = model.predict(images, verbose=0).argmax(axis=1) == labels
        images, labels = images[right], labels[right]
        line = [f"seed {seed}: accuracy {right.mean():.3f}, {time.perf_counter() - start:.0f} s"]
        layers = [None] + [
            layer.name
            for layer in model.layers
            if layer.name.startswith(("conv2d", "activation", "max_pooling2d"))
        ]
        for layer in layers:
            maps = explain.grad_cam(model, images, layer=layer)
            score = explain.deletion_score(model, images, maps, target=labels, baseline=baseline)
            line.append(f"{layer or 'default'} {score.win_rate:.2f}")
        maps = explain.grad_cam_plus_plus(model, images)
        score = explain.deletion_score(model, images, maps, target=labels, baseline=baseline)
        line.append(f"grad_cam++ {score.win_rate:.2f}")
        print(", ".join(line), flush=True)


if __name__ == "__main__":
    main()
