"""``transition-bot workspace list | delete TEAM_ID``: see and remove workspaces' data.

An uninstalled workspace keeps its tenants (a reinstall picks up where it stopped); deleting
it removes its tenants with everything under them (runbook state, approvals, reminders,
watch data, audit log) and its OAuth installation rows.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from bot.app.runtime import Runtime
from bot.ops.config import ConfigError, load_settings
from bot.slack.workspaces import Deleted, delete_workspace
from storage import database as migrations
from storage.database import Database
from storage.workspaces import WorkspaceSummary


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="workspace_command", metavar="ACTION", required=True)
    sub.add_parser("list", help="workspaces with their tenant counts and install state")
    delete = sub.add_parser(
        "delete", help="delete a workspace's tenants, their history and its installation"
    )
    delete.add_argument("team_id", metavar="TEAM_ID", help="the Slack team id (T…)")
    delete.add_argument("--yes", action="store_true", help="do not ask for confirmation")


def run(args: argparse.Namespace) -> int:
    settings = load_settings()
    runtime = Runtime(settings=settings, database=Database(settings.database_url))
    if args.workspace_command == "list":
        for line in _lines(asyncio.run(_overview(runtime))):
            print(line)
        return 0
    team_id = str(args.team_id).strip().upper()
    if not args.yes and not _confirmed(team_id):
        print("Nothing deleted.", file=sys.stderr)
        return 1
    deleted = asyncio.run(_delete(runtime, team_id))
    print(_deleted_line(team_id, deleted))
    return 0 if deleted.workspaces or deleted.installations else 1


def _confirmed(team_id: str) -> bool:
    if not sys.stdin.isatty():
        print(
            f"Deleting {team_id} removes its tenants and their history for good: "
            "add --yes to confirm.",
            file=sys.stderr,
        )
        return False
    answer = input(f"Delete every tenant of {team_id} and its history? Type {team_id}: ")
    return answer.strip().upper() == team_id


async def _require_schema(runtime: Runtime) -> None:
    """A database `serve` has not created (or not upgraded) gets one line, not a traceback;
    this command does not change the schema itself (old replicas may still be running)."""
    current = await migrations.current_revision(runtime.settings.database_url)
    if current != migrations.head_revision():
        state = "has no tables yet" if current is None else f"is at revision {current}"
        raise ConfigError(
            f"the database {state}: run `transition-bot db upgrade` (or start `serve`) first."
        )


async def _overview(runtime: Runtime) -> list[WorkspaceSummary]:
    try:
        await _require_schema(runtime)
        async with runtime.db.uow() as uow:
            return await uow.workspaces.overview()
    finally:
        await runtime.db.dispose()


async def _delete(runtime: Runtime, team_id: str) -> Deleted:
    try:
        await _require_schema(runtime)
        return await delete_workspace(runtime, team_id)
    finally:
        await runtime.db.dispose()


def _lines(rows: list[WorkspaceSummary]) -> list[str]:
    if not rows:
        return ["No workspaces yet."]
    out = []
    for row in rows:
        state = (
            f"uninstalled {row.uninstalled_at:%Y-%m-%d %H:%M} UTC"
            if row.uninstalled_at
            else "installed"
        )
        out.append(f"{row.team_id}\t{row.tenants} tenant(s)\t{state}")
    return out


def _deleted_line(team_id: str, deleted: Deleted) -> str:
    if not deleted.workspaces and not deleted.installations:
        return f"{team_id}: no such workspace here (see `transition-bot workspace list`)."
    return (
        f"{team_id}: deleted {deleted.tenants} tenant(s) with their history, and "
        f"{deleted.installations} installation record(s)."
    )
