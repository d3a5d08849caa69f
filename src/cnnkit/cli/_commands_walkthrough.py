"""``cnnkit walkthrough``: one image followed through every layer of a saved model, as a page
whose neurons show their computation when clicked."""

from __future__ import annotations

import argparse
from pathlib import Path

from cnnkit.cli import _data, _run_dir
from cnnkit.cli._commands_predict import class_names, read_image
from cnnkit.cli._errors import CommandError
from cnnkit.cli._report import report_module
from cnnkit.models import load_model


def run(args: argparse.Namespace) -> int:
    """Read the model and the image as ``predict`` does, then write the page."""
    report = report_module()
    if report is None:
        raise CommandError("no page written: cnnkit.report is needed for this command")
    path = _run_dir.model_file(args.model)
    model = load_model(path, compile=False)
    image = read_image(args.image, _data.model_input_shape(model))
    out = Path(args.out) if args.out else Path(args.image).with_suffix(".walkthrough.html")
    outputs = (model.output_shape or (None, 0))[-1] or 0
    written = report.walkthrough(
        model,
        _data.scaled(image),
        out,
        batch_size=args.batch_size,
        class_names=class_names(args.class_names, path, outputs),
        caption=f"{Path(args.image).name} through {path.name}",
    )
    print(f"walkthrough: {written}")
    return 0
