"""Shutdown when the database has gone away: releasing leases and flushing the outbox fail,
are logged, and the server's teardown still completes (the process can exit 0).

The bot's real aiohttp application with its scheduler and watch, on the test database; the
database is then removed under it (PostgreSQL: dropped WITH (FORCE); SQLite: the file replaced
by a directory, which SQLite cannot open).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import shutil
from pathlib import Path

import pytest
from aiohttp import web
from sqlalchemy.engine import make_url

from bot.app.server import RUNTIME, init
from bot.ops.config import Settings
from tests.support.db_fixtures import PostgresAdmin


def _replace_by_directory(path: Path) -> None:
    path.unlink()
    shutil.rmtree(path.with_name(path.name + "-journal"), ignore_errors=True)
    path.mkdir()


async def _remove_database(
    backend: str, url: str, app: web.Application, request: pytest.FixtureRequest
) -> None:
    if backend == "sqlite":
        # Pooled connections keep the unlinked file open: close them, as a lost server would.
        await app[RUNTIME].db.engine.dispose()
        await asyncio.to_thread(_replace_by_directory, Path(str(make_url(url).database)))
        return
    admin: PostgresAdmin = request.getfixturevalue("_postgres")[0]
    name = make_url(url).database
    await asyncio.to_thread(admin.execute, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def test_shutdown_with_the_database_gone_logs_and_finishes(
    backend: str,
    database_url: str,
    bot_settings: Settings,
    request: pytest.FixtureRequest,
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = dataclasses.replace(bot_settings, database_url=database_url)
    app = init(settings)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()

    await _remove_database(backend, database_url, app, request)
    with caplog.at_level(logging.INFO, logger="bot.jobs.shutdown"):
        await runner.cleanup()  # raised aiohttp's CleanupError before: teardown cut short

    warnings = [r.getMessage() for r in caplog.records if r.name == "bot.jobs.shutdown"]
    assert any("could not release leases" in w for w in warnings), warnings
    assert any("shutdown: released" in r.getMessage() for r in caplog.records)
