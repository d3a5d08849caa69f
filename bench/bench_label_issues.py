"""Label cleaning on real Fashion-MNIST: flip 3% of the training labels (seeded), find them
again with cnnkit.interpret.find_label_issues, and compare with cleanlab on the same
out-of-fold probabilities.

Targets: the top 3% of the ranking hold >= 60% of the flipped labels; the whole search takes
no longer than ``folds`` x one training run on all the images (it trains ``folds`` models on
(folds - 1) / folds of them each, plus the held-out predictions).

    python bench/bench_label_issues.py                  # 12,000 images, 5 folds, 4 epochs
    python bench/bench_label_issues.py --size 4000 --epochs 2   # quicker
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))  # this checkout's cnnkit

import cnnkit  # noqa: E402
from cnnkit import layers  # noqa: E402
from cnnkit.interpret import find_label_issues  # noqa: E402


def small_cnn() -> cnnkit.Sequential:
    """Two convolution blocks and a softmax: ~89% on Fashion-MNIST after a few epochs."""
    model = cnnkit.Sequential(
        [
            layers.Input((28, 28, 1)),
            layers.Conv2D(16, 3, activation="relu"),
            layers.MaxPooling2D(2),
            layers.Conv2D(32, 3, activation="relu"),
            layers.MaxPooling2D(2),
            layers.Flatten(),
            layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    return model


def noisy_subset(size: int, rate: float, seed: int) -> tuple[np.ndarray, ...]:
    """(x, clean labels, noisy labels, flipped indices) of a seeded training subset."""
    (x, y), _ = cnnkit.datasets.fashion_mnist.load_data()
    rng = np.random.default_rng(seed)
    chosen = rng.permutation(len(x))[:size]
    x = x[chosen, ..., None].astype(np.float32) / 255
    y = y[chosen].astype(np.int64)
    flipped = rng.choice(size, int(round(rate * size)), replace=False)
    noisy = y.copy()
    noisy[flipped] = (y[flipped] + rng.integers(1, 10, len(flipped))) % 10
    return x, y, noisy, flipped


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=12000)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--rate", type=float, default=0.03)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    x, y, noisy, flipped = noisy_subset(args.size, args.rate, seed=0)

    start = time.perf_counter()
    cnnkit.utils.set_random_seed(0)
    small_cnn().fit(x, noisy, epochs=args.epochs, batch_size=128, verbose=0)
    one_run = time.perf_counter() - start

    start = time.perf_counter()
    issues = find_label_issues(
        small_cnn, x, noisy, folds=args.folds, epochs=args.epochs, batch_size=128, seed=0
    )
    search = time.perf_counter() - start

    top = issues.indices[: len(flipped)]
    from cleanlab.filter import find_label_issues as cleanlab_issues

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = set(np.flatnonzero(cleanlab_issues(noisy, issues.probabilities, n_jobs=1)))
    mine = set(issues.indices.tolist())
    result = {
        "images": args.size,
        "flipped": len(flipped),
        "folds": args.folds,
        "epochs": args.epochs,
        "out_of_fold_accuracy_vs_clean": float(np.mean(issues.probabilities.argmax(1) == y)),
        "flagged": len(issues),
        "flipped_in_top_3%": float(np.isin(top, flipped).mean() * len(top) / len(flipped)),
        "flipped_among_flagged": float(np.isin(flipped, issues.indices).mean()),
        "precision_of_flagged": float(np.isin(issues.indices, flipped).mean()),
        "suggested_is_clean_label": float(
            np.mean(
                issues.suggested_labels[np.isin(issues.indices, flipped)]
                == y[issues.indices[np.isin(issues.indices, flipped)]]
            )
        ),  # fmt: skip
        "overlap_with_cleanlab": len(mine & theirs) / max(len(mine | theirs), 1),
        "one_training_run_s": round(one_run, 1),
        "search_s": round(search, 1),
        "search_over_folds_x_one_run": round(search / (args.folds * one_run), 3),
    }
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
