"""`cnnkit --help`, the README and the demo's docstring say one thing about how long the demo
takes (measured: bench/README.md, "The demo's time")."""

from __future__ import annotations

import re
from pathlib import Path

from cnnkit.cli import _commands_demo
from cnnkit.cli._parser import build_parser

README = Path(__file__).resolve().parents[1] / "README.md"


def words(text: str) -> str:
    return " ".join(text.split())


def test_help_readme_and_docstring_give_the_demo_the_same_time():
    help_text = words(build_parser().format_help())
    claim = re.search(r"Start with `cnnkit demo` \(([^()]+), no download\)", help_text)
    assert claim, help_text
    phrase = claim.group(1)
    assert "minute" in phrase and "two CPU cores" in phrase
    readme = README.read_text(encoding="utf-8")
    after_demo = readme[readme.index("bash install.sh && cnnkit demo") :]
    paragraph = words(after_demo.split("```", 2)[1].strip().split("\n\n")[0])  # text under it
    assert f"No network needed; {phrase}." in paragraph, paragraph
    assert phrase in words(_commands_demo.__doc__)
