"""``cnnkit evaluate``: a saved model's test accuracy on a dataset, overall and per class."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from cnnkit.cli import _data, _run_dir, _tta
from cnnkit.cli._errors import CommandError
from cnnkit.cli._inference_model import load_for_inference

#: Class names shown in a warning before the rest is summarised as "..., N classes".
_NAMES_SHOWN = 6


def run(args: argparse.Namespace) -> int:
    """Load the model and the test set, print accuracy overall and per class."""
    path = _run_dir.model_file(args.model)
    model = load_for_inference(path)
    data = _data.load_for_model(args.dataset, _data.model_input_shape(model), args.image_size)
    classes = int(model.output_shape[-1])
    if classes != data.num_classes:
        raise CommandError(
            f"{path} predicts {classes} classes but {data.name} has {data.num_classes}"
        )
    warn_if_other_classes(path, data, getattr(model, "class_names", None))
    probabilities = _data.checked_outputs(
        model.predict(
            _data.scaled(data.x_test), batch_size=512, verbose=0, **_tta.option(args.no_tta, path)
        ),
        path,
    )
    predicted = probabilities.argmax(axis=1)
    correct = predicted == data.y_test
    print(f"model: {path}")
    print(
        f"test accuracy on {data.name}: {correct.mean():.4f} "
        f"({int(correct.sum()):,} of {len(correct):,} images)"
    )
    print(per_class_table(correct, data.y_test, data.class_names))
    return 0


def warn_if_other_classes(path: Path, data: _data.Data, stored: list[str] | None = None) -> None:
    """A warning on stderr when the classes stored in the model file (an export) or saved
    beside it are not the dataset's: the scores would compare labels by number (a
    Fashion-MNIST model scored on digits)."""
    trained = stored or _run_dir.class_names_beside(path)
    if trained is None or tuple(trained) == data.class_names:
        return
    print(
        f"warning: {path} was trained on the classes {_listing(trained)} but {data.name} has "
        f"{_listing(data.class_names)}; the accuracy below matches classes by number only",
        file=sys.stderr,
    )


def _listing(names: list[str] | tuple[str, ...]) -> str:
    shown = ", ".join(map(repr, names[:_NAMES_SHOWN]))
    return shown if len(names) <= _NAMES_SHOWN else f"{shown}, ... ({len(names)} classes)"


def per_class_table(correct: np.ndarray, labels: np.ndarray, names: tuple[str, ...]) -> str:
    """Accuracy of each class, where a model's mistakes concentrate."""
    width = max(len("class"), *(len(name) for name in names))
    lines = [f"  {'class':<{width}}  accuracy  images"]
    for label, name in enumerate(names):
        mask = labels == label
        count = int(mask.sum())
        accuracy = f"{correct[mask].mean():.4f}" if count else "     -"
        lines.append(f"  {name:<{width}}  {accuracy:>8}  {count:>6,}")
    return "\n".join(lines)
