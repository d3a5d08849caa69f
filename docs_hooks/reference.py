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


def _source_exports(module: ModuleType) -> list[str]:
    """Names a module without ``__all__`` exports: top-level definitions and assignments, and
    explicit ``from m import X as X`` re-exports (also under ``if TYPE_CHECKING:``)."""
    tree = ast.parse(Path(inspect.getfile(module)).read_text(encoding="utf-8"))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            names += [a.asname for a in node.names if a.asname and a.asname == a.name]
        elif isinstance(node, ast.FunctionDef | ast.ClassDef) and node in tree.body:
            names.append(node.name)
        elif isinstance(node, ast.Assign) and node in tree.body:
            names += [t.id for t in node.targets if isinstance(t, ast.Name)]
    return list(dict.fromkeys(n for n in names if not n.startswith("_")))


def public_names(module_name: str) -> list[str]:
    """The public functions, classes and constants of ``module_name`` (submodules excluded):
    its ``__all__`` when it has one, else its explicit exports."""
    module = importlib.import_module(module_name)
    exported = getattr(module, "__all__", None)
    names = list(exported) if exported is not None else _source_exports(module)
    return [n for n in names if not inspect.ismodule(getattr(module, n, None))]


def _expand(match: re.Match) -> str:
    members = ", ".join(public_names(match.group(1)))
    return f"{match.group(0)}\n    options:\n      members: [{members}]"


def on_page_markdown(markdown: str, **kwargs) -> str:
    """Add the member list to each bare ``::: cnnkit...`` directive of a page."""
    return DIRECTIVE.sub(_expand, markdown)
