"""t-SNE speed at 10,000 points: scikit-learn (what cnnkit.inspect.tsne uses) versus openTSNE.

Run: OMP_NUM_THREADS=T python3 bench/bench_tsne.py [n_points] [T]  (T threads each, default 2;
openTSNE is skipped if absent). Wall and CPU seconds are printed: on a shared machine CPU
seconds with T=1 are the steadier comparison.
Input: the first n (default 10,000) Fashion-MNIST test images as pixel vectors / 255, reduced
to 50 dimensions by PCA exactly as ``cnnkit.inspect.tsne`` does, then embedded in 2-D with
perplexity 30 and 1,000 iterations in all (250 of them early exaggeration) by both libraries
(Barnes-Hut in scikit-learn, FFT interpolation in openTSNE, each library's default method). The neighbourhood quality of both
results is printed too (5-NN accuracy in the embedding), so a faster run is not a worse one.

Measured on 2 shared CPU cores (load average 4-10 from other jobs), scikit-learn 1.9.1,
openTSNE 1.0.4, 10,000 points, 5-NN accuracy 0.80 for both in every run:
  2 threads: scikit-learn 114.7 s, openTSNE 111.9 s wall; a second, busier run 278.9 s vs 196.0 s.
  1 thread:  scikit-learn 78.0 s CPU (159.6 s wall), openTSNE 89.8 s CPU (111.3 s wall).
openTSNE needs more CPU time single-threaded and its wall-clock edge follows the machine's load,
so it is not markedly faster here: cnnkit.inspect.tsne stays on scikit-learn.
"""

from __future__ import annotations

import sys
import time

import numpy as np
from sklearn.decomposition import PCA
from sklearn.manifold import TSNE
from sklearn.model_selection import cross_val_score
from sklearn.neighbors import KNeighborsClassifier

from cnnkit.datasets import fashion_mnist


def knn_accuracy(points: np.ndarray, labels: np.ndarray) -> float:
    """5-NN accuracy of the 2-D embedding (5-fold), a check that both runs are comparable."""
    return float(cross_val_score(KNeighborsClassifier(5), points, labels, cv=5).mean())


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    threads = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    _, (x, y) = fashion_mnist.load_data()
    x = x[:n].reshape(n, -1).astype(np.float32) / 255
    y = y[:n]
    reduced = PCA(50, random_state=0).fit_transform(x).astype(np.float32)
    print(f"{n} points, PCA to 50 dimensions, perplexity 30, 1000 iterations, {threads} threads")

    start, cpu = time.perf_counter(), time.process_time()
    points = TSNE(2, perplexity=30, init="pca", random_state=0, n_jobs=threads).fit_transform(
        reduced
    )
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    print(
        f"scikit-learn TSNE: {seconds:6.1f} s wall, {cpu:6.1f} s CPU   "
        f"5-NN accuracy {knn_accuracy(points, y):.3f}"
    )

    try:
        import openTSNE
    except ImportError:
        print("openTSNE: not installed (pip install openTSNE to compare)")
        return
    start, cpu = time.perf_counter(), time.process_time()
    embedding = openTSNE.TSNE(
        n_components=2, perplexity=30, n_iter=750, random_state=0, n_jobs=threads
    ).fit(reduced)  # 250 early-exaggeration + 750 iterations: scikit-learn's 1,000 in all
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    points = np.asarray(embedding)
    print(
        f"openTSNE {openTSNE.__version__}:    {seconds:6.1f} s wall, {cpu:6.1f} s CPU   "
        f"5-NN accuracy {knn_accuracy(points, y):.3f}"
    )


if __name__ == "__main__":
    main()
