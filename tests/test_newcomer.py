"""A newcomer's first minutes: clone, run the README's two commands in a fresh virtual
environment, and find the demo's report with every section."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
COMMANDS = [
    code.strip()
    for code in re.findall(r"```bash\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
][:2]
PYTHON_BLOCKS = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.S)


@pytest.mark.slow
@pytest.mark.skipif(
    os.environ.get("CNNKIT_NEWCOMER_RUN") == "1", reason="already inside the newcomer test"
)
def test_readme_commands_work_from_a_fresh_clone(tmp_path):
    clone = tmp_path / "cnnkit"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True, timeout=120)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    env = {
        **os.environ,
        "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}",
        "VIRTUAL_ENV": str(venv),
        "CNNKIT_NEWCOMER_RUN": "1",
        "PYTHONPATH": "",
    }
    env.pop("PYTHONHOME", None)

    main_job = subprocess.run(
        ["bash", "-c", COMMANDS[0]],
        cwd=clone,
        env=env,
        capture_output=True,
        text=True,
        timeout=1500,
    )
    assert main_job.returncode == 0, main_job.stdout[-3000:] + main_job.stderr[-3000:]
    report = clone / "cnnkit-demo" / "report.html"
    assert report.is_file() and str(report.relative_to(clone)) in main_job.stdout
    from cnnkit.report import SECTION_IDS

    html = report.read_text()
    assert all(f'id="{section}"' in html for section in SECTION_IDS)

    # A README snippet saved as a script beside the clone (the clone's folder is named cnnkit,
    # and Python puts the script's folder first on the path): it imports the installed package,
    # not the clone's folder as an empty namespace package.
    snippet = tmp_path / "snippet.py"
    snippet.write_text(PYTHON_BLOCKS[-1])
    beside = subprocess.run(
        [str(venv / "bin" / "python"), str(snippet)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert beside.returncode == 0, beside.stderr[-3000:]
    assert "images per batch fit in 1 GiB" in beside.stdout

    # The test command as written; the environment narrows it to one quick file (the full suite
    # is what CI runs around this test).
    env["PYTEST_ADDOPTS"] = "-p no:cacheprovider tests/test_lecture.py"
    tests = subprocess.run(
        ["bash", "-c", COMMANDS[1]],
        cwd=clone,
        env=env,
        capture_output=True,
        text=True,
        timeout=1500,
    )
    assert tests.returncode == 0, tests.stdout[-3000:] + tests.stderr[-3000:]
    assert re.search(r"\d+ passed", tests.stdout)
