"""``cnnkit summary``: a model file's or a zoo model's layers, shapes and parameter counts."""

from __future__ import annotations

import argparse
import os

from cnnkit import zoo
from cnnkit.cli._errors import CommandError


def run(args: argparse.Namespace) -> int:
    """Print the summary; a name that is neither a file nor a zoo model is a one-line error."""
    if os.path.isfile(args.model):
        if args.input_shape:
            raise CommandError(
                "--input-shape applies to zoo models only; a model file keeps its own input shape"
            )
        from cnnkit.models import load_model

        model = load_model(args.model, compile=True)
    else:
        kwargs = {"input_shape": args.input_shape} if args.input_shape else {}
        try:
            model = zoo.get(args.model, **kwargs)
        except ValueError as error:
            raise CommandError(f"{error} No model file of that name either.") from None
    model.summary(formulas=args.formulas, batch_size=args.batch_size)
    return 0
