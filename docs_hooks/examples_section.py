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


class AliasDocstring(griffe.Extension):
    """Gives a module-level alias (``Convolution2D = Conv2D``, ``swish = silu``) the docstring
    "Another name for ``Conv2D``.", so the reference lists it without showing every
    undocumented attribute."""

    def on_attribute_instance(self, *, attr: griffe.Attribute, **kwargs) -> None:
        """Document one attribute when it is a module's bare alias of another name."""
        value = str(attr.value) if attr.value is not None else ""
        if attr.parent is not None and attr.parent.is_module and attr.docstring is None:
            if value.isidentifier() and not value.startswith("_"):
                attr.docstring = griffe.Docstring(f"Another name for `{value}`.", parent=attr)
