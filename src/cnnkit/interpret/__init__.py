"""Error analysis and label cleaning: where a trained classifier goes wrong, and which
training labels are probably wrong.

- ``Interpretation.from_model(model, x, y)``: one prediction pass, then ``top_losses``,
  ``most_confused``, ``confusion_matrix``, ``classification_report`` (scikit-learn's numbers)
  and ``plot_top_losses`` (each worst image beside its nearest training images in latent space).
- ``find_label_issues(model_fn, x, y)``: out-of-fold probabilities from ``folds`` trainings,
  then confident learning ranks the examples whose label they contradict.
- ``label_issues_from_probabilities(probabilities, y)``: the same from your own probabilities.
"""

from __future__ import annotations

from cnnkit.interpret._cross_validation import find_label_issues as find_label_issues
from cnnkit.interpret._cross_validation import (
    out_of_fold_probabilities as out_of_fold_probabilities,
)
from cnnkit.interpret._interpretation import Interpretation as Interpretation
from cnnkit.interpret._interpretation import LossRecord as LossRecord
from cnnkit.interpret._label_issues import LabelIssues as LabelIssues
from cnnkit.interpret._label_issues import (
    label_issues_from_probabilities as label_issues_from_probabilities,
)

__all__ = [
    "Interpretation",
    "LabelIssues",
    "LossRecord",
    "find_label_issues",
    "label_issues_from_probabilities",
    "out_of_fold_probabilities",
]
