"""Dependencies point one way: cli -> report -> plots -> inspect/explain -> models -> training ->
layers -> basics. Every import counts, including those inside functions, so a circle cannot
hide behind a late import. Draw the current graph with ``python tests/test_import_direction.py``."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "cnnkit"

# Each top-level module or package of cnnkit, by rank: a module may import its own rank or lower.
RANKS = {
    0: {"_arrays", "_dataset", "_fast", "_file_tensors", "_files", "_graph_header", "_header_fields",
        "_malloc", "_model_header", "_onednn", "_optimizer_file", "_parallel", "_registry", "_shapes",
        "_validation", "_variable",
        "_lr_schedule_base", "_lr_schedule_decays", "_lr_schedules", "config", "distributed",
        "backend", "_pydataset"},
    1: {"data", "activations", "constraints", "initializers", "regularizers", "losses", "metrics",
        "optimizers", "memory", "arithmetic", "signal", "datasets", "neighbors"},
    2: {"layers", "callbacks"},
    3: {"training", "ops", "random"},
    4: {"models", "zoo", "saving", "export"},
    5: {"inspect", "explain", "similarity"},
    6: {"plots"},
    # utils re-exports plots' plot_model, as in Keras; interpret seeds its folds with utils.
    # serve reads uploads with datasets' checks and answers with a model; cli serves it.
    7: {"report", "utils", "preprocessing", "interpret", "serve"},
    8: {"cnnkit", "cli", "__main__"},
}  # fmt: skip
RANK = {unit: rank for rank, units in RANKS.items() for unit in units}
# Packages whose private modules only they may import (others use their public names), and
# the pairs allowed in: saving is the public face of models' file format; a model is a trainer.
SEALED = {
    "explain",
    "inspect",
    "plots",
    "report",
    "datasets",
    "models",
    "callbacks",
    "training",
    "interpret",
}
# (utils' image_dataset_from_directory reads images with datasets' own checks; interpret's
# top-loss figure draws its images with plots' own helpers.)
FRIENDS = {
    ("saving", "models"),
    ("models", "training"),
    ("utils", "datasets"),
    ("interpret", "plots"),
}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(path): path for path in PACKAGE.rglob("*.py")}


def imported(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """Every cnnkit module ``name`` imports, at any depth of its code."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        targets = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".")
                anchor = anchor if path.name == "__init__.py" else anchor[:-1]
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            # a submodule by its own name, else a name defined in ``base``
            targets = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
                for alias in node.names
            ]
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target.startswith("cnnkit") and target != name:
                found.add(target)
    return found


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imported(name, path, known) for name, path in known.items()}


def unit(name: str) -> str:
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else "cnnkit"


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in edges[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(10_000)
    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_every_module_has_a_rank():
    assert sorted({unit(name) for name in modules()} - set(RANK)) == []


def test_no_import_circle_between_packages():
    """No circle through two packages (or top-level modules), seen module by module and
    package by package. Inside one package a class and the module that rebuilds it from a
    config may refer to each other (models: Model.from_config and the config reader)."""
    edges = graph()
    assert [c for c in cycles(edges) if len({unit(m) for m in c}) > 1] == []
    units: dict[str, set[str]] = {}
    for source, targets in edges.items():
        units.setdefault(unit(source), set()).update(
            unit(t) for t in targets if unit(t) != unit(source)
        )
    for targets in list(units.values()):
        for target in targets:
            units.setdefault(target, set())
    assert cycles(units) == []


def test_imports_point_down_the_ranks():
    upward = [
        f"{source} -> {target}"
        for source, targets in graph().items()
        for target in sorted(targets)
        if RANK[unit(target)] > RANK[unit(source)]
    ]
    assert upward == []


def test_private_modules_of_sealed_packages_stay_inside():
    reaching = [
        f"{source} -> {target}"
        for source, targets in graph().items()
        for target in sorted(targets)
        if unit(target) in SEALED
        and unit(source) != unit(target)
        and (unit(source), unit(target)) not in FRIENDS
        and any(part.startswith("_") for part in target.split(".")[2:])
    ]
    assert reaching == []


def test_the_checks_catch_a_circle_and_an_upward_import():
    edges = {"cnnkit.layers.a": {"cnnkit.models.b"}, "cnnkit.models.b": {"cnnkit.layers.a"}}
    assert cycles(edges) == [["cnnkit.layers.a", "cnnkit.models.b"]]
    assert cycles({"layers": {"models"}, "models": {"layers"}}) == [["layers", "models"]]
    assert RANK[unit("cnnkit.models.b")] > RANK[unit("cnnkit.layers.a")]


if __name__ == "__main__":
    for source, targets in sorted(graph().items()):
        for target in sorted(targets):
            print(f"{source} -> {target}")


def test_every_public_namespace_is_reachable_from_a_bare_import():
    """``import cnnkit`` alone gives ``cnnkit.saving.load_model`` etc., as ``import keras`` does."""
    import subprocess
    import sys

    names = [
        "saving",
        "models",
        "layers",
        "ops",
        "random",
        "utils",
        "data",
        "preprocessing",
        "backend",
    ]
    code = "import cnnkit; " + "; ".join(f"cnnkit.{name}.__name__" for name in names)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
