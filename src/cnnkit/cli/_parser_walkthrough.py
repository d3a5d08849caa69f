"""The ``walkthrough`` subcommand's options (kept apart so the parser stays light)."""

from __future__ import annotations

import argparse

from cnnkit.cli import _types


def add_walkthrough(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """The ``walkthrough`` subcommand's options."""
    parser = commands.add_parser(
        "walkthrough",
        parents=[common],
        help="a page that follows one image through every layer, neuron by neuron",
        description="Write a self-contained HTML page showing every layer's maps for one\n"
        "image; click a neuron to see its window, kernel, products, sum plus bias and\n"
        "activation, with each layer's output size, parameters and activation memory.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("model", metavar="MODEL", help="model file or run folder")
    parser.add_argument("image", metavar="IMAGE", help="a PNG, JPEG, BMP or GIF file")
    parser.add_argument("--out", help="the page to write (default: IMAGE's name + .html)")
    parser.add_argument(
        "--batch-size",
        type=_types.parse_positive_int,
        default=32,
        help="batch size for activation memory (32)",
    )
    parser.add_argument(
        "--class-names",
        metavar="FILE|A,B,...",
        help="JSON list file or comma-separated names (default: class_names.json beside MODEL)",
    )
