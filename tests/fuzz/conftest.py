"""The fuzz suite's bot, and its counts in the terminal summary.

The bot runs in-process on port 0 with BIND on loopback and a migrated PostgreSQL database (it
enforces column lengths and rejects NUL characters, so it finds more than SQLite would). One bot
per test; every example goes through ``FuzzBot.send``.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import AsyncIterator, Callable

import pytest
from hypothesis import HealthCheck, settings

from bot.jobs.background import SCHEDULER
from bot.jobs.scheduler import Scheduler
from bot.ops.config import Settings
from storage.database import make_engine
from tests.fuzz.harness import FuzzBot, LogCatcher, StateWatcher, seed_tenant
from tests.support.fuzz_counts import SCALE
from tests.support.slack_fixtures import StartServer


def fuzz_settings(examples: int) -> settings:
    """Hypothesis settings for one fuzz test: no deadline (DNS and the database set the pace),
    the fixtures shared by every example on purpose, no example database between runs."""
    return settings(
        max_examples=max(1, round(examples * SCALE)),
        deadline=None,
        database=None,
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.filter_too_much,
        ],
    )


@pytest.fixture
def backend() -> str:
    return "postgresql"


@pytest.fixture
async def fuzz_bot(
    database_url: str,  # first: set up before the server, dropped after it stopped
    bot_server: StartServer,
    bot_settings: Settings,
    request: pytest.FixtureRequest,
    record_property: Callable[[str, object], None],
) -> AsyncIterator[FuzzBot]:
    settings_ = dataclasses.replace(bot_settings, database_url=database_url)
    server = await bot_server(settings_)
    await quiet_background_jobs(server.app[SCHEDULER])
    database = server.runtime.db
    tenant_id = await seed_tenant(database)
    catcher = LogCatcher()
    root = logging.getLogger()
    root.addHandler(catcher)
    engine = make_engine(database_url)
    state = StateWatcher(engine)
    bot = FuzzBot(server=server, state=state, logs=catcher, tenant_id=tenant_id)
    try:
        yield bot
    finally:
        root.removeHandler(catcher)
        await state.close()
        await engine.dispose()
        record_property("fuzz_requests", bot.tally.requests)
        record_property("fuzz", bot.tally.line())


async def quiet_background_jobs(scheduler: Scheduler) -> None:
    """The watch and reminders write on their own schedule; the fuzz compares the database
    before and after each request, so they are paused (and the runs in progress awaited)."""
    await scheduler.pause_and_drain()
