"""``cnnkit demo``: the lecture in one command. A kNN baseline, LeNet-5 and a modern small CNN
on the same images, their test accuracies side by side, then the report.

The default dataset is embedded (scikit-learn's digits at 32x32), so the demo needs no
download and takes under half a minute on two CPU cores.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import numpy as np

import cnnkit
from cnnkit.cli import _data, _run_dir
from cnnkit.cli._build import build_model, compile_model
from cnnkit.cli._recipes import recipe_for
from cnnkit.cli._report import build_report
from cnnkit.cli._schedule import OneCycle

#: The models the demo trains, in the order of the lecture.
CNNS = ("lenet5", "small_cnn")
#: kNN candidates, chosen on a validation split of the training images.
KNN_KS, KNN_METRICS = (1, 3, 5, 7), ("l1", "l2")
#: The kNN baseline uses at most this many training images (the search is quadratic).
KNN_MAX_TRAIN = 20_000


def run(args: argparse.Namespace) -> int:
    """Run the baselines and CNNs, print the comparison table, write models and report."""
    out = Path(args.out)
    _run_dir.check_out_folder(out)
    cnnkit.utils.set_random_seed(0)
    kind = _data.dataset_kind(args.dataset)
    recipe = recipe_for(kind, epochs=args.epochs, image_size=args.image_size)
    data = _data.load(args.dataset, recipe.image_size)
    print(
        f"{data.name}: {len(data.x_train):,} training and {len(data.x_test):,} test images "
        f"{data.input_shape}, {data.num_classes} classes"
    )
    rows = knn_baseline(data)
    histories: dict[str, Any] = {}
    for name in CNNS:
        print(f"\n{name}: {_epochs(recipe.epochs)}")
        model, histories[name], row = train_cnn(name, data, recipe)
        model.save(out / f"{name}.cnnkit")
        rows.append(row)
    _run_dir.write_json(out / _run_dir.CLASS_NAMES, list(data.class_names))
    print("\n" + accuracy_table(rows))
    path = None
    if args.report:
        others = {row["model"]: row["accuracy"] for row in rows if row["model"] in CNNS[:-1]}
        path = build_report(
            out, model, histories[CNNS[-1]], data, knn=_knn_scores(rows), models=others
        )
    print(f"\nmodels: {', '.join(str(out / f'{name}.cnnkit') for name in CNNS)}")
    if path is not None:
        print(f"report: {path}")
    return 0


def knn_baseline(data: _data.Data) -> list[dict[str, Any]]:
    """For each distance, K chosen on validation data, then the test accuracy with that K."""
    from cnnkit.neighbors import KNeighborsClassifier, select

    x, y = data.x_train[:KNN_MAX_TRAIN], data.y_train[:KNN_MAX_TRAIN]
    start = time.perf_counter()
    choice = select(x, y, ks=KNN_KS, metrics=KNN_METRICS, validation_split=0.2)
    rows = []
    for metric in KNN_METRICS:
        k = max(KNN_KS, key=lambda candidate: (choice.accuracy(candidate, metric), -candidate))
        knn = KNeighborsClassifier(n_neighbors=k, metric=metric).fit(x, y)
        name = f"kNN ({metric.upper()}, k={k})"
        rows.append(
            {
                "model": name,
                "parameters": None,  # kNN keeps the training images instead
                "accuracy": knn.score(data.x_test, data.y_test),
                "report name": (
                    f"{name}: {metric.upper()} distance between pixels, "
                    f"K chosen from {', '.join(map(str, KNN_KS))} on a validation split; "
                    f"{len(x):,} training images"
                ),
            }
        )
    seconds = time.perf_counter() - start
    print(f"kNN baseline on {len(x):,} training images: K chosen by validation ({seconds:.0f}s)")
    for row in rows:
        row["seconds"] = seconds / len(rows)
    return rows


def train_cnn(name: str, data: _data.Data, recipe: Any) -> tuple[Any, Any, dict[str, Any]]:
    """Train one zoo CNN with the dataset's recipe; returns model, history and its table row."""
    augment = {"flip": recipe.flip, "shift": recipe.shift} if recipe.augment else None
    model = build_model(name, data.input_shape, data.num_classes, augment)
    compile_model(model, recipe.learning_rate, recipe.weight_decay, recipe.label_smoothing)
    start = time.perf_counter()
    history = model.fit(
        _data.scaled(data.x_train),
        data.y_train,
        batch_size=recipe.batch_size,
        epochs=recipe.epochs,
        callbacks=[OneCycle(recipe.learning_rate, recipe.epochs)],
        verbose="auto",
    )
    seconds = time.perf_counter() - start
    probabilities = model.predict(_data.scaled(data.x_test), batch_size=512, verbose=0)
    accuracy = float(np.mean(probabilities.argmax(axis=1) == data.y_test))
    row = {
        "model": name,
        "parameters": model.count_params(),
        "accuracy": accuracy,
        "seconds": seconds,
    }
    return model, history, row


def accuracy_table(rows: list[dict[str, Any]]) -> str:
    """The side-by-side comparison: test accuracy, parameters and time of every model."""
    width = max(len("model"), *(len(row["model"]) for row in rows))
    lines = [f"{'model':<{width}}  test accuracy  parameters  time"]
    for row in rows:
        lines.append(
            f"{row['model']:<{width}}  {row['accuracy']:>13.4f}  {_count(row['parameters']):>10}  "
            f"{row['seconds']:>4.0f}s"
        )
    return "\n".join(lines)


def _knn_scores(rows: list[dict[str, Any]]) -> dict[str, float]:
    """The kNN rows as {description: test accuracy}, what the report shows beside the CNN."""
    return {row["report name"]: row["accuracy"] for row in rows if "report name" in row}


def _epochs(count: int) -> str:
    return f"{count} epoch" if count == 1 else f"{count} epochs"


def _count(parameters: int | None) -> str:
    return "-" if parameters is None else f"{parameters:,}"
