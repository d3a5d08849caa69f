"""Public Keras image-classification scripts run with only the import swapped to cnnkit.

Each script in tests/keras_scripts/ names its source and licence in its header and its row
in tests/keras_scripts/README.md. A script that needs a cnnkit feature that does not exist
yet is a strict xfail naming that feature, so it turns red the day the feature lands and the
marker must go.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).parent / "keras_scripts"
SOURCE = Path(__file__).parent.parent / "src"
TIMEOUT_S = 300  # per script, generous for a loaded machine; each takes seconds when quiet

MISSING: dict[str, str] = {}


def _scripts() -> list:
    """Every collected script, each marked xfail(strict) when it needs a missing feature."""
    params = []
    for path in sorted(SCRIPTS.glob("*.py")):
        if path.name.startswith("_"):
            continue
        marks = []
        if path.stem in MISSING:
            marks = [pytest.mark.xfail(strict=True, reason=MISSING[path.stem])]
        params.append(pytest.param(path, id=path.stem, marks=marks))
    return params


def _run(path: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.update(
        KERAS_BACKEND="torch",
        MPLBACKEND="Agg",
        PYTHONPATH=os.pathsep.join([str(SOURCE), str(SCRIPTS)]),
    )
    return subprocess.run(
        [sys.executable, str(path)],
        cwd=SCRIPTS,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
    )


@pytest.mark.slow
@pytest.mark.parametrize("path", _scripts())
def test_script_runs_with_cnnkit(path: Path):
    result = _run(path)
    assert result.returncode == 0, f"{path.name} failed:\n{result.stderr[-3000:]}"


def test_every_script_names_its_source_and_licence():
    readme = (SCRIPTS / "README.md").read_text()
    scripts = [p for p in SCRIPTS.glob("*.py") if not p.name.startswith("_")]
    assert len(scripts) >= 14
    for path in scripts:
        header = path.read_text().split('"""')[0]
        assert "# Source: " in header and "# Licence: " in header, path.name
        assert f"`{path.name}`" in readme, path.name


def test_scripts_import_cnnkit_not_keras_or_tensorflow():
    for path in SCRIPTS.glob("*.py"):
        for line in path.read_text().splitlines():
            words = line.split()
            if words[:1] in (["import"], ["from"]) and len(words) > 1:
                top = words[1].split(".")[0]
                assert top not in {"keras", "tensorflow", "tf"}, f"{path.name}: {line}"
