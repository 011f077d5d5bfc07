"""Test-wide plugins: real BIND, real databases, a fake Slack Web API at the edge."""

from __future__ import annotations

import logging

import pytest

pytest_plugins: list[str] = [
    "tests.support.bind_fixtures",
    "tests.support.db_fixtures",
    "tests.support.fake_graph",
    "tests.support.fake_mta_sts",
    "tests.support.slow_slack",
    "tests.support.fuzz_counts",
    "tests.support.slack_fixtures",
]


# Libraries whose DEBUG lines (a line per SQL statement or per loop callback) would bury a failing
# test's report; no test reads them. ``pytest --log-level=DEBUG`` brings them back.
CHATTY_LOGGERS = ("aiosqlite", "asyncio", "asyncpg", "hpack", "urllib3", "websockets")


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("log_level") is None:
        for name in CHATTY_LOGGERS:
            logging.getLogger(name).setLevel(logging.INFO)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """A skipped test is a failed test here: every service a test needs is ours to start.

    A skip would hide a missing BIND or database behind a green run, so the session fails
    instead (and an empty run, pytest's exit 5, fails as it does anyway).
    """
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter else 0
    if skipped and session.exitstatus == 0:
        reporter.write_line(f"{skipped} test(s) skipped: failing the run (see the skip reasons).")
        session.exitstatus = 1
