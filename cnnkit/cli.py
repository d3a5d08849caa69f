"""The ``cnnkit`` command line: for now, print a zoo model's summary (the main job grows later)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from cnnkit import zoo


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cnnkit", description="Build, train and understand CNNs.")
    commands = parser.add_subparsers(dest="command")
    summary = commands.add_parser(
        "summary", help="print a zoo model's layers, shapes and parameter counts"
    )
    summary.add_argument(
        "model", nargs="?", default="lenet5", help=f"one of: {', '.join(zoo.names())}"
    )
    summary.add_argument("--input-shape", help="e.g. 32,32,3 (height,width,channels)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 ok, 1 failure, 2 usage error)."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command in (None, "summary"):
        name = getattr(args, "model", "lenet5")
        kwargs = {}
        if getattr(args, "input_shape", None):
            try:
                kwargs["input_shape"] = tuple(int(s) for s in args.input_shape.split(","))
            except ValueError:
                parser.error(
                    f"--input-shape must be comma-separated ints such as 32,32,3; got {args.input_shape!r}"
                )
        try:
            model = zoo.get(name, **kwargs)
        except (ValueError, TypeError) as error:
            print(f"cnnkit: {error}", file=sys.stderr)
            return 1
        model.summary()
        return 0
    parser.error(f"unknown command {args.command!r}")
    return 2
