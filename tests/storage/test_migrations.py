"""The migrations and the models describe the same schema, on every database we run on."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from storage.database import current_revision, head_revision, make_engine, upgrade
from storage.schema import metadata


def _diff(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, metadata()))


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


async def test_upgrade_from_empty_reaches_head_and_matches_models(empty_database_url: str) -> None:
    assert await current_revision(empty_database_url) is None
    await upgrade(empty_database_url)
    assert await current_revision(empty_database_url) == head_revision()

    engine = make_engine(empty_database_url)
    try:
        async with engine.connect() as connection:
            assert await connection.run_sync(_diff) == []
            tables = await connection.run_sync(_tables)
    finally:
        await engine.dispose()
    # slack-sdk's OAuth stores find their tables where they look for them
    assert {"slack_bots", "slack_installations", "slack_oauth_states"} <= tables
    assert {"tenants", "step_states", "approval_votes", "reminders", "audit_events"} <= tables


async def test_upgrade_twice_is_harmless(empty_database_url: str) -> None:
    await upgrade(empty_database_url)
    await upgrade(empty_database_url)
    assert await current_revision(empty_database_url) == head_revision()


async def test_models_differ_from_an_unmigrated_database(empty_database_url: str) -> None:
    """The comparison can fail: against an empty database it reports every table missing."""
    engine = make_engine(empty_database_url)
    try:
        async with engine.connect() as connection:
            diff = await connection.run_sync(_diff)
    finally:
        await engine.dispose()
    assert {d[1].name for d in diff if d[0] == "add_table"} >= {"tenants", "reminders"}


def test_cli_db_upgrade_creates_the_database(tmp_path: Any, capsys: Any) -> None:
    import argparse

    from bot.cli import db as cli

    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    path = tmp_path / "cli.db"
    assert cli.run(parser.parse_args(["upgrade", "--url", f"sqlite:///{path}"])) == 0
    assert path.exists()
    assert f"revision {head_revision()}" in capsys.readouterr().out
