"""bot/ stays grouped: few loose modules, and README's Development tree names every package."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MAX_LOOSE = 8


def test_bot_keeps_few_loose_modules() -> None:
    loose = sorted(p.name for p in (ROOT / "bot").glob("*.py") if p.name != "__init__.py")
    assert len(loose) <= MAX_LOOSE, loose


def test_readme_development_tree_names_every_package() -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Development", 1)[1]
    tree = section.split("```text", 1)[1].split("```", 1)[0]
    named = set(re.findall(r"^ +(\w+)/", tree, re.M))
    packages = {p.parent.name for p in (ROOT / "bot").glob("*/*.py")}
    assert packages == named, (sorted(packages - named), sorted(named - packages))
