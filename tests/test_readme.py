"""Every Python block of the README runs as written; the bash blocks are the newcomer test's."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```(\w+)\n(.*?)```", README.read_text(), flags=re.S)


def test_readme_has_the_two_setup_commands():
    commands = [code.strip() for language, code in BLOCKS if language == "bash"]
    assert commands[:2] == [
        "bash install.sh && cnnkit demo",
        "bash install.sh test && python3 -m pytest -q",
    ]


@pytest.mark.parametrize("code", [code for language, code in BLOCKS if language == "python"])
def test_python_block_runs(code, capsys):
    exec(compile(code, str(README), "exec"), {"__name__": "__readme__"})
    assert "Traceback" not in capsys.readouterr().err
