"""MkDocs hook: every ``::: cnnkit.module`` line of the reference lists that module's public
names, so a name exported without ``__all__`` (an ``X as X`` re-export) is documented too."""

from __future__ import annotations

import ast
import importlib
import inspect
import re
from pathlib import Path
from types import ModuleType

DIRECTIVE = re.compile(r"^::: (cnnkit(?:\.\w+)*)[ \t]*$", re.MULTILINE)


def _source_exports(module: ModuleType) -> tuple[list[str], list[str]]:
    """A module's explicit re-exports (``from m import X as X``, also under ``if
    TYPE_CHECKING:``) and its top-level definitions and assignments, public names only."""
    tree = ast.parse(Path(inspect.getfile(module)).read_text(encoding="utf-8"))
    reexported: list[str] = []
    defined: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            reexported += [a.name for a in node.names if a.asname == a.name]
        elif node in tree.body and isinstance(node, ast.FunctionDef | ast.ClassDef):
            defined.append(node.name)
        elif node in tree.body and isinstance(node, ast.Assign):
            defined += [t.id for t in node.targets if isinstance(t, ast.Name)]
    public = [n for n in reexported + defined if not n.startswith("_")]
    return [n for n in reexported if n in public], [n for n in defined if n in public]


def public_names(module_name: str) -> list[str]:
    """The public functions, classes and constants of ``module_name``, submodules excluded:
    its ``__all__`` and explicit re-exports; without ``__all__``, its top-level definitions
    too."""
    module = importlib.import_module(module_name)
    reexported, defined = _source_exports(module)
    exported = getattr(module, "__all__", None)
    names = [*exported, *reexported] if exported is not None else [*reexported, *defined]
    return [n for n in dict.fromkeys(names) if not inspect.ismodule(getattr(module, n, None))]


def _expand(match: re.Match) -> str:
    members = ", ".join(public_names(match.group(1)))
    return f"{match.group(0)}\n    options:\n      members: [{members}]"


def on_page_markdown(markdown: str, **kwargs) -> str:
    """Add the member list to each bare ``::: cnnkit...`` directive of a page."""
    return DIRECTIVE.sub(_expand, markdown)
