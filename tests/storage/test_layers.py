"""Storage is the bottom layer: no module of it imports the bot or the handlers."""

from __future__ import annotations

import ast
from pathlib import Path

import storage

ABOVE = ("bot", "handlers")


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


def test_storage_imports_nothing_of_bot_or_handlers() -> None:
    root = Path(storage.__file__).parent
    modules = sorted(root.rglob("*.py"))
    assert len(modules) > 10
    upward = {
        str(path.relative_to(root)): sorted(
            name for name in imported_modules(path) if name.split(".")[0] in ABOVE
        )
        for path in modules
    }
    assert {path: names for path, names in upward.items() if names} == {}
