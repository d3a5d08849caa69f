"""The report's t-SNE settings (one thread) keep the map's quality; the speed is measured by
bench/bench_report.py, not here."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import threadpoolctl
from sklearn.manifold import trustworthiness
from sklearn.model_selection import cross_val_score
from sklearn.neighbors import KNeighborsClassifier

from cnnkit import inspect
from cnnkit.datasets import digits
from cnnkit.inspect._tsne import _steps, default_perplexity
from cnnkit.report import _sections_inside


def test_the_reports_tsne_settings_keep_neighbourhoods_and_classes():
    (x, y), _ = digits.load_data()
    x, y = x[:200], y[:200]
    points = inspect.tsne(
        x, perplexity=default_perplexity(len(x)), n_jobs=_sections_inside.TSNE_THREADS
    )
    # measured 0.990 and 0.987 on 300 of these images with the old settings (every core)
    assert trustworthiness(x.reshape(len(x), -1).astype(np.float64), points, n_neighbors=10) > 0.95
    assert cross_val_score(KNeighborsClassifier(5), points, y, cv=5).mean() > 0.9


def _thread_counts() -> list[int]:
    return [pool["num_threads"] for pool in threadpoolctl.threadpool_info()]


def test_the_reports_maps_made_side_by_side_equal_maps_made_one_after_the_other(monkeypatch):
    (x, _), _ = digits.load_data()
    rng = np.random.default_rng(0)
    vectors = [x[:80], rng.normal(size=(80, 16)).astype(np.float32), x[80:160]]
    alone = [inspect.tsne(v, perplexity=10, seed=3, n_jobs=1) for v in vectors]
    monkeypatch.setattr(_sections_inside.os, "cpu_count", lambda: 2)
    threads = set()
    original = inspect.tsne

    def recorded(*args, **kwargs):
        threads.add(threading.get_ident())
        return original(*args, **kwargs)

    monkeypatch.setattr(_sections_inside.inspect, "tsne", recorded)
    before = _thread_counts()
    together = _sections_inside._tsne_maps(vectors, 10, 3)
    assert len(threads) == 2 and threading.get_ident() not in threads  # two at a time
    for one, other in zip(alone, together):
        np.testing.assert_array_equal(one, other)
    assert _thread_counts() == before  # the process-wide limit is lifted again


def test_tsne_checks_max_iter_and_n_jobs():
    x = np.random.default_rng(0).normal(size=(12, 5))
    with pytest.raises(
        ValueError, match=r"tsne: max_iter must be an int >= 250. Received: max_iter=100"
    ):
        inspect.tsne(x, perplexity=3, max_iter=100)
    with pytest.raises(
        ValueError, match=r"tsne: n_jobs must be a positive int or None. Received: n_jobs=0"
    ):
        inspect.tsne(x, perplexity=3, n_jobs=0)


def test_the_step_count_goes_by_the_name_scikit_learn_uses():
    class Before15:
        def __init__(self, n_iter=1000): ...

    class Since15:
        def __init__(self, max_iter=None): ...

    assert _steps(Before15, 500) == {"n_iter": 500}
    assert _steps(Since15, 500) == {"max_iter": 500}
