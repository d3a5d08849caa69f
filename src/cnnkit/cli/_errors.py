"""The one exception the command line turns into ``cnnkit: <message>`` and exit code 1."""

from __future__ import annotations


class CommandError(Exception):
    """A failure the user can act on; its message is printed as one line, without a traceback.

    Commands raise it for problems the library itself would not call errors (a run folder that
    already holds a run, a model whose input does not fit the data, ...).
    """


class UsageError(CommandError):
    """A combination of options argparse cannot check by itself; exit code 2, like argparse."""
