"""The report's t-SNE settings (one thread) keep the map's quality; the speed is measured by
bench/bench_report.py, not here."""

from __future__ import annotations

import numpy as np
import pytest
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
