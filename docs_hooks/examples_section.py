"""Griffe extension: cnnkit's docstrings title their doctests ``Example:``; the reference reads
that as Google style's ``Examples:`` section, so the ``>>>`` lines render as code."""

from __future__ import annotations

import re

import griffe

EXAMPLE_TITLE = re.compile(r"^(\s*)Example:\s*$", re.MULTILINE)


class ExampleSection(griffe.Extension):
    """Renames each docstring's ``Example:`` section to ``Examples:``."""

    def on_instance(self, *, obj: griffe.Object, **kwargs) -> None:
        """Rewrite the section title of one object's docstring, when it has one."""
        if obj.docstring is not None:
            obj.docstring.value = EXAMPLE_TITLE.sub(r"\1Examples:", obj.docstring.value)
