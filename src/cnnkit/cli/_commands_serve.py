"""``cnnkit serve``: a model file's predictions over HTTP (``cnnkit.serve``)."""

from __future__ import annotations

import argparse

from cnnkit.cli import _data, _run_dir
from cnnkit.cli._commands_predict import class_names
from cnnkit.models import load_model


def run(args: argparse.Namespace) -> int:
    """Load the model and its class names, then serve until interrupted."""
    from cnnkit.serve import create_app, run_server

    path = _run_dir.model_file(args.model)
    model = load_model(path, compile=False)
    _data.model_input_shape(model)  # the command line's own message for a non-image model
    names = class_names(args.class_names, path, int(model.output_shape[-1]))
    app = create_app(
        model,
        names,
        max_upload_mb=args.max_upload_mb,
        max_batch=args.max_batch,
        batch_wait_ms=args.batch_wait_ms,
    )
    print(
        f"serving {path} at http://{args.host}:{args.port} "
        "(POST /predict with image files, GET /health); Ctrl+C stops",
        flush=True,
    )
    run_server(app, args.host, args.port)
    return 0
