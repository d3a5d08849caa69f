"""The argparse definition of ``cnnkit audit`` (kept apart from the other commands' parser)."""

from __future__ import annotations

import argparse

from cnnkit.cli import _types
from cnnkit.cli._parser import _command, _data_flags

#: Defaults sized so Fashion-MNIST audits in about a minute on two CPU cores.
DEFAULT_LIMIT, DEFAULT_FOLDS, DEFAULT_EPOCHS = 3000, 3, 2

DESCRIPTION = """\
Find training images whose label is probably wrong (confident learning on out-of-fold
probabilities, cnnkit.interpret): the images are split into --folds stratified folds, a
fresh model trains on all folds but one and predicts the held-out one, so every image is
judged by a model that never saw it. A built-in dataset's training images are audited; a
folder's images all are (its files listed in the CSV).

Without --model each fold trains the zoo's small_cnn. With --model (a saved .cnnkit or
.keras model file, or a run folder) each fold trains that architecture from fresh weights
(clone_model: the file's weights are not used, since they saw the images being judged),
with AdamW and sparse categorical cross-entropy, so its last layer must be a softmax.

Writes into --out: audit.html (each likely issue's image, given and suggested class, and its
nearest images in the latent space of the last fold's model: the input of its last Dense
layer), label_issues.csv (index, given and suggested label, score = probability of the given
label, file path) and out_of_fold_probabilities.npy."""


def folds(value: str) -> int:
    """--folds: an integer >= 2 (one fold holds out, the others train)."""
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 2:
        raise argparse.ArgumentTypeError(
            f"expected an integer >= 2 (each fold is judged by a model trained on the others); "
            f"got {value!r}"
        )
    return number


def add_audit(commands, common) -> None:
    """Add the ``audit`` subcommand."""
    parser = _command(
        commands,
        common,
        "audit",
        "find likely wrong labels, with an HTML page to check them",
        DESCRIPTION,
    )
    _data_flags(parser, required=True)
    parser.add_argument("--model", help="model file or run folder whose architecture trains")
    parser.add_argument(
        "--folds", type=folds, default=DEFAULT_FOLDS, help=f"folds, >= 2 ({DEFAULT_FOLDS})"
    )
    parser.add_argument(
        "--epochs",
        type=_types.parse_positive_int,
        default=DEFAULT_EPOCHS,
        help=f"training epochs per fold ({DEFAULT_EPOCHS})",
    )
    parser.add_argument(
        "--limit",
        type=_types.parse_positive_int,
        default=DEFAULT_LIMIT,
        help=f"audit at most N training images, drawn at random with --seed ({DEFAULT_LIMIT})",
    )
    parser.add_argument("--batch-size", type=_types.parse_positive_int, help="images per step")
    parser.add_argument("--seed", type=int, default=0, help="seed of the sample and folds (0)")
    parser.add_argument(
        "--show", type=_types.parse_positive_int, default=100, help="issues on the page (100)"
    )
    parser.add_argument("--out", help="folder for the results (default: audit-DATASET)")
