"""k-nearest-neighbour image classification: the lecture's first classifier, exact and fast.

- ``KNeighborsClassifier``: fit/predict/predict_proba/kneighbors/score, L1, L2 or cosine.
- ``select``: validation accuracy for every (K, distance) pair, to choose them.
"""

from __future__ import annotations

from ._classifier import KNeighborsClassifier as KNeighborsClassifier
from ._select import SelectionResult as SelectionResult
from ._select import SelectionRow as SelectionRow
from ._select import select as select

__all__ = ["KNeighborsClassifier", "SelectionResult", "SelectionRow", "select"]
