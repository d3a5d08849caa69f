"""The ``cnnkit`` command line (``cnnkit ...`` or ``python -m cnnkit ...``).

Exit codes: 0 success, 2 usage error (argparse), 1 failure, reported as one line
``cnnkit: <message>`` on stderr; ``--debug`` adds the traceback.
"""

from __future__ import annotations

import importlib
import sys
import traceback
from collections.abc import Sequence

from cnnkit.cli._errors import CommandError, UsageError
from cnnkit.cli._parser import build_parser

#: Subcommand -> module whose ``run(args) -> int`` carries it out (imported when chosen).
COMMANDS = {
    "demo": "cnnkit.cli._commands_demo",
    "train": "cnnkit.cli._commands_train",
    "lr-find": "cnnkit.cli._commands_lr_find",
    "evaluate": "cnnkit.cli._commands_evaluate",
    "predict": "cnnkit.cli._commands_predict",
    "explain": "cnnkit.cli._commands_explain",
    "export": "cnnkit.cli._commands_export",
    "summary": "cnnkit.cli._commands_summary",
    "knn": "cnnkit.cli._commands_knn",
    "report": "cnnkit.cli._commands_report",
    "audit": "cnnkit.cli._commands_audit",
    "walkthrough": "cnnkit.cli._commands_walkthrough",
    "serve": "cnnkit.cli._commands_serve",
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 ok, 1 failure, 2 usage error)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:  # --help (0) or a usage error (2)
        return stop.code if isinstance(stop.code, int) else 2
    if args.command is None:
        parser.print_help()  # its epilog is the hint: where to start
        return 0
    try:
        return importlib.import_module(COMMANDS[args.command]).run(args)
    except UsageError as error:
        print(
            f"usage: cnnkit {args.command} --help\ncnnkit {args.command}: error: {error}",
            file=sys.stderr,
        )
        return 2
    except KeyboardInterrupt:
        print("cnnkit: interrupted", file=sys.stderr)
        return 130
    except Exception as error:  # the command line's last line of defence: one line, exit 1
        if args.debug:
            traceback.print_exc()
        print(f"cnnkit: {one_line(error)}", file=sys.stderr)
        return 1


def one_line(error: BaseException) -> str:
    """The error's message on one line; unexpected error types keep their name as a clue."""
    message = " ".join(str(error).split()) or type(error).__name__
    expected = (CommandError, ValueError, TypeError, OSError, ImportError)
    return message if isinstance(error, expected) else f"{type(error).__name__}: {message}"
