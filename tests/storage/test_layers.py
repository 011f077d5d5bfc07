"""Storage is the bottom layer: no module of it imports the bot or the handlers, and above it
the unit of work's repositories are the only way in (nothing there touches its session)."""

from __future__ import annotations

import ast
from pathlib import Path

import bot
import handlers
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


def units_of_work(tree: ast.AST) -> set[str]:
    """Names a module gives a unit of work: ``uow``, ``async with …uow…() as x``, and
    parameters or variables annotated ``UnitOfWork``."""
    names = {"uow"}
    for node in ast.walk(tree):
        if isinstance(node, ast.withitem) and isinstance(node.optional_vars, ast.Name):
            opened = ast.unparse(node.context_expr)
            if "uow" in opened.lower() or "UnitOfWork" in opened:
                names.add(node.optional_vars.id)
        annotated: tuple[str, ast.expr | None] | None = None
        if isinstance(node, ast.arg):
            annotated = node.arg, node.annotation
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            annotated = node.target.id, node.annotation
        if annotated and annotated[1] and "UnitOfWork" in ast.unparse(annotated[1]):
            names.add(annotated[0])
    return names


def session_uses(path: Path) -> list[str]:
    """``uow.session`` (of any name a unit of work has there), with line numbers."""
    tree = ast.parse(path.read_text(), str(path))
    uows = units_of_work(tree)
    found = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and node.attr == "session"
        and isinstance(node.value, ast.Name | ast.Attribute)
        and ast.unparse(node.value).split(".")[-1] in uows
    ]
    return [f"{path.parent.name}/{path.name}:{node.lineno}: {ast.unparse(node)}" for node in found]


def test_nothing_above_storage_touches_a_unit_of_works_session() -> None:
    modules = [
        path
        for package in (bot, handlers)
        for path in sorted(Path(package.__file__ or "").parent.rglob("*.py"))
    ]
    assert len(modules) > 50
    assert [use for path in modules for use in session_uses(path)] == []


def test_a_session_use_is_seen(tmp_path: Path) -> None:
    module = tmp_path / "job.py"
    module.write_text(
        "async def run(work: UnitOfWork, sessionmaker) -> None:\n"
        "    await work.session.execute(query)\n"
        "    async with UnitOfWork(sessionmaker) as unit:\n"
        "        await unit.session.flush()\n"
        "    async with runtime.db.uow() as uow:\n"
        "        uow.session.add(row)\n"
        "    console.session.close()\n"
    )
    assert sorted(use.split(": ")[1] for use in session_uses(module)) == [
        "unit.session",
        "uow.session",
        "work.session",
    ]
