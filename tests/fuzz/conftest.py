"""The fuzz suite's bot, and its counts in the terminal summary.

The bot runs in-process on port 0 with BIND on loopback and a migrated PostgreSQL database (it
enforces column lengths and rejects NUL characters, so it finds more than SQLite would). One bot
per test; every example goes through ``FuzzBot.send``.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import AsyncIterator, Callable

import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from hypothesis import HealthCheck, settings

from bot.jobs.scheduler import SCHEDULER, pause_and_drain
from bot.ops.config import Settings
from storage.database import make_engine
from tests.fuzz.harness import FuzzBot, LogCatcher, StateWatcher, seed_tenant
from tests.support.slack_fixtures import StartServer

# Full size by default (CI runs it so); TRANSITION_FUZZ_SCALE=0.1 runs a tenth, for a quick pass.
SCALE = float(os.environ.get("TRANSITION_FUZZ_SCALE", "1"))
MINIMUM_REQUESTS = int(10_000 * SCALE)
# Counted from each fuzz test's report, so that they add up in pytest-xdist's controller too.
PER_TEST: dict[str, tuple[int, str]] = {}


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
        state.close()
        await engine.dispose()
        record_property("fuzz_requests", bot.tally.requests)
        record_property("fuzz", bot.tally.line())


async def quiet_background_jobs(scheduler: AsyncIOScheduler) -> None:
    """The watch and reminders write on their own schedule; the fuzz compares the database
    before and after each request, so they are paused (and the runs in progress awaited)."""
    await pause_and_drain(scheduler)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    properties = dict(report.user_properties)
    if report.when == "teardown" and "fuzz_requests" in properties:
        PER_TEST[report.nodeid] = (int(properties["fuzz_requests"]), str(properties["fuzz"]))


def _total() -> int:
    return sum(requests for requests, _ in PER_TEST.values())


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """When the whole fuzz suite ran, fewer than the promised requests fails the run."""
    if getattr(session.config, "workerinput", None) is not None:
        return  # an xdist worker: the controller has every test's count
    fuzz_items = [
        i
        for i in session.items
        if "tests/fuzz/" in i.nodeid and "fuzz_bot" in getattr(i, "fixturenames", ())
    ]
    if fuzz_items and len(PER_TEST) == len(fuzz_items) and _total() < MINIMUM_REQUESTS:
        session.exitstatus = 1


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if PER_TEST:
        terminalreporter.write_sep("=", "fuzz")
        for name, (_, line) in sorted(PER_TEST.items()):
            terminalreporter.write_line(f"  {name}: {line}")
        terminalreporter.write_line(f"fuzz: {_total()} requests in all (scale {SCALE:g})")
        if _total() < MINIMUM_REQUESTS:
            terminalreporter.write_line(
                f"fuzz: fewer than {MINIMUM_REQUESTS} requests (a subset of the suite ran?)"
            )
