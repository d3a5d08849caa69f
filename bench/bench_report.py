"""How long ``cnnkit.report.build`` takes on Fashion-MNIST, old t-SNE settings vs new, in one run.

Run: python3 bench/bench_report.py [--model FILE] [--train-images N] [--rounds R]

Builds the report ``cnnkit train --dataset fashion_mnist`` writes (60,000 training and 10,000
test images, 2,000 of them in the heavy sections) twice per round: with t-SNE on every core (the
old setting) and on one thread (the new one), alternating which goes first. Prints each step's
seconds from the report's own progress lines, the total wall and CPU seconds, the load average,
and the quality of both t-SNE maps of each build: trustworthiness (scikit-learn, 10 neighbours)
and the 5-fold 5-NN accuracy of the classes in the 2-D map. Without ``--model`` a small_cnn is
trained for one epoch on the first ``N`` training images (default 20,000) so the latent map has
something to show; pass a model a ``cnnkit train`` run saved to measure the real one.
Results: README.md (section "Report").
"""

from __future__ import annotations

import argparse
import io
import os
import re
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from sklearn.manifold import trustworthiness
from sklearn.model_selection import cross_val_score
from sklearn.neighbors import KNeighborsClassifier

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import cnnkit  # noqa: E402
from cnnkit import inspect, report  # noqa: E402
from cnnkit.cli import _data  # noqa: E402
from cnnkit.cli._build import build_model, compile_model  # noqa: E402
from cnnkit.report import _sections_inside  # noqa: E402

SETTINGS = {"old (all cores)": None, "new (1 thread)": 1}
STEP = re.compile(r"^\[report +([0-9.]+)s\] (.*)$")


def trained_model(data: _data.Data, args: argparse.Namespace):
    """The model to report on: loaded from ``--model``, or small_cnn after one short epoch."""
    if args.model:
        return cnnkit.saving.load_model(args.model), None
    cnnkit.utils.set_random_seed(0)
    model = build_model("small_cnn", data.input_shape, data.num_classes, None)
    compile_model(model, 3e-3, 5e-4)
    n = args.train_images
    history = model.fit(
        _data.scaled(data.x_train[:n]), data.y_train[:n], batch_size=128, epochs=1, verbose=2
    )
    return model, history


def quality(vectors: np.ndarray, points: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """(trustworthiness with 10 neighbours, 5-NN accuracy of the classes in the map)."""
    flat = vectors.reshape(len(vectors), -1).astype(np.float32)
    trust = trustworthiness(flat, points, n_neighbors=10)
    knn = cross_val_score(KNeighborsClassifier(5), points, labels, cv=5).mean()
    return float(trust), float(knn)


def build_once(model, history, data: _data.Data, threads: int | None) -> dict:
    """One report build with t-SNE on ``threads``; its times, steps and t-SNE maps."""
    maps = []
    real_tsne = inspect.tsne

    def recording_tsne(x, *args, **kwargs):
        points = real_tsne(x, *args, **kwargs)
        maps.append((np.asarray(x), points))
        return points

    inspect.tsne, _sections_inside.TSNE_THREADS = recording_tsne, threads
    progress = io.StringIO()
    load = os.getloadavg()[0]
    start, cpu = time.perf_counter(), time.process_time()
    try:
        with tempfile.TemporaryDirectory() as folder:
            report.build(
                folder,
                model,
                history,
                ((data.x_train, data.y_train), (data.x_test, data.y_test)),
                class_names=list(data.class_names),
                preprocess=_data.scaled,
                progress=progress,
            )
    finally:
        inspect.tsne = real_tsne
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    return {"wall": wall, "cpu": cpu, "load": load, "steps": steps(progress), "maps": maps}


def steps(progress: io.StringIO) -> dict[str, float]:
    """Seconds of each progress step: from its line to the next one."""
    marks = [STEP.match(line) for line in progress.getvalue().splitlines()]
    marks = [(float(m.group(1)), m.group(2)) for m in marks if m]
    return {name: after[0] - at for (at, name), after in zip(marks, marks[1:])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="a model file saved by cnnkit train")
    parser.add_argument("--train-images", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    data = _data.load("fashion_mnist")
    model, history = trained_model(data, args)
    labels = data.y_test[cnnkit.inspect._tsne.subsample(len(data.y_test), 2000, 0)]
    for round_number in range(args.rounds):
        order = list(SETTINGS.items())[:: 1 if round_number % 2 == 0 else -1]
        for name, threads in order:
            result = build_once(model, history, data, threads)
            print(
                f"\n{name}: report {result['wall']:.1f} s wall, {result['cpu']:.1f} s CPU "
                f"(load average {result['load']:.1f} at the start)"
            )
            for step, seconds in result["steps"].items():
                if seconds >= 0.5:
                    print(f"  {seconds:6.1f} s  {step}")
            for space, (vectors, points) in zip(("pixels", "latent"), result["maps"]):
                trust, knn = quality(vectors, points, labels)
                print(f"  t-SNE of {space}: trustworthiness {trust:.4f}, 5-NN accuracy {knn:.4f}")


if __name__ == "__main__":
    main()
