"""The argparse definition of ``cnnkit serve`` (kept apart from the other commands' parser)."""

from __future__ import annotations

from cnnkit.cli import _types
from cnnkit.cli._parser import _command

DESCRIPTION = """\
Serve a model file (or a run folder's best model) over HTTP until Ctrl+C:

  POST /predict   image files as multipart/form-data fields 'file' or 'files', or one image
                  as the raw body with an image/* Content-Type; answers JSON with each image's
                  top classes (names from class_names.json beside MODEL) and probabilities.
                  ?top_k=N sets how many classes (5).
  GET  /health    status, model input shape, classes, and how many model calls were made.

Images are read as `cnnkit predict` reads them (PNG, JPEG, BMP or GIF; pixel limits checked
before decoding), converted to the model's channels and resized to its input size. Requests
arriving together share one model call (--max-batch images, waiting --batch-wait-ms).
Needs: pip install 'cnnkit[serve]'."""


def add_serve(commands, common) -> None:
    """The ``serve`` subcommand and its options."""
    parser = _command(
        commands, common, "serve", "serve a model's predictions over HTTP", DESCRIPTION
    )
    parser.add_argument("model", metavar="MODEL", help="model file or run folder")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    parser.add_argument("--port", type=_types.parse_positive_int, default=8000, help="(8000)")
    parser.add_argument(
        "--max-upload-mb",
        type=_types.positive_float,
        default=10.0,
        help="largest request body in MiB, refused with 413 while it streams in (10)",
    )
    parser.add_argument(
        "--max-batch", type=_types.parse_positive_int, default=32, help="images per model call (32)"
    )
    parser.add_argument(
        "--batch-wait-ms",
        type=_types.non_negative_float,
        default=5.0,
        help="how long a request waits for others to share its model call, in ms (5)",
    )
    parser.add_argument(
        "--class-names",
        metavar="FILE|A,B,...",
        help="JSON list file or comma-separated names (default: class_names.json beside MODEL)",
    )
