"""What every fuzz test shares: a running bot with a seeded tenant, a way to wait until the
work a request started after its ack is over, a snapshot of every table, and the tally.

``FuzzBot.send(post)`` is the one step each example takes: snapshot, post a signed request,
wait for the follow-up work, snapshot again, and record what went wrong (a 5xx, a traceback in
a response or a log line, a table that changed). The test asserts the tally is clean at the
end, so one run reports every kind of failure at once instead of stopping at the first.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.core.tenant_form import TenantForm, validate
from bot.services.common import Caller
from bot.services.tenants import start_tenant
from bot.slack.listener_tasks import LISTENER_TASKS, ListenerTasks
from storage.database import Database
from storage.schema import metadata
from tests.support.fake_slack import (
    DEFAULT_TEAM,
    ApiCall,
    BlockKitError,
    validate_blocks,
    validate_view,
)
from tests.support.slack_fixtures import BotServer
from tests.support.slack_requests import DEFAULT_CHANNEL, DEFAULT_USER, SlackResponse

# Bookkeeping that legitimately grows with every delivery: Events API ids already taken.
NOT_STATE = frozenset({"slack_seen_events"})
APPROVER = "U0APPROVER"
FOREIGN_TEAM = "T0FOREIGN"

Snapshot = dict[str, list[str]]


@dataclass
class Tally:
    requests: int = 0
    server_errors: list[str] = field(default_factory=list)
    tracebacks: list[str] = field(default_factory=list)
    state_changes: list[str] = field(default_factory=list)
    refused_messages: list[str] = field(default_factory=list)  # blocks Slack would refuse
    statuses: dict[int, int] = field(default_factory=dict)
    allowed_changes: int = 0  # requests that changed only what they may (e.g. a valid start)

    def add(self, other: Tally) -> None:
        self.requests += other.requests
        self.allowed_changes += other.allowed_changes
        self.server_errors += other.server_errors
        self.tracebacks += other.tracebacks
        self.state_changes += other.state_changes
        self.refused_messages += other.refused_messages
        for status, count in other.statuses.items():
            self.statuses[status] = self.statuses.get(status, 0) + count

    def line(self) -> str:
        return (
            f"{self.requests} requests, {len(self.server_errors)} 5xx, "
            f"{len(self.tracebacks)} tracebacks, {len(self.state_changes)} state changes, "
            f"{len(self.refused_messages)} messages Slack would refuse "
            f"(statuses {dict(sorted(self.statuses.items()))}; "
            f"{self.allowed_changes} allowed changes)"
        )

    def failures(self) -> list[str]:
        problems = self.server_errors + self.tracebacks + self.state_changes
        return (problems + self.refused_messages)[:10]


class LogCatcher(logging.Handler):
    """Every log record's rendered text (with its exception) since the last ``take()``."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))

    def take(self) -> list[str]:
        lines, self.lines = self.lines, []
        return lines


class StateWatcher:
    """Snapshots of every table, taken only when something was committed since the last one.

    "Something was committed" is asked cheaply: SQLite's ``PRAGMA data_version`` (on one
    connection of our own), PostgreSQL's next transaction id (any write anywhere advances it,
    so it may say "changed" for another test's write, never "unchanged" for ours).
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._tables = [t for t in metadata().sorted_tables if t.name not in NOT_STATE]
        self._sqlite: sqlite3.Connection | None = None
        self._postgres: AsyncConnection | None = None  # held open: no pool, pre-ping or rollback
        if engine.dialect.name == "sqlite":
            path = engine.url.database or ""
            self._sqlite = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._version: object = None
        self._last: Snapshot = {}

    async def close(self) -> None:
        if self._sqlite is not None:
            self._sqlite.close()
        if self._postgres is not None:
            await self._postgres.close()

    async def _driver(self) -> Any:
        """asyncpg's own connection, in autocommit: each query sees what is committed now."""
        if self._postgres is None:
            self._postgres = await self.engine.connect()
        raw = await self._postgres.get_raw_connection()
        return raw.driver_connection

    async def _current_version(self) -> object:
        if self._sqlite is not None:
            return self._sqlite.execute("PRAGMA data_version").fetchone()
        driver = await self._driver()
        return await driver.fetchval("SELECT pg_snapshot_xmax(pg_current_snapshot())")

    async def _take(self) -> Snapshot:
        tables: Snapshot = {table.name: [] for table in self._tables}
        if self._sqlite is not None:
            for table in self._tables:
                found = self._sqlite.execute(f'SELECT * FROM "{table.name}"').fetchall()
                tables[table.name] = sorted(repr(row) for row in found)
            return tables
        # Every table in one round trip, each row as its JSON text.
        query = " UNION ALL ".join(
            f"SELECT '{table.name}', row_to_json(t)::text FROM \"{table.name}\" t"
            for table in self._tables
        )
        driver = await self._driver()
        for name, row in await driver.fetch(query):
            tables[name].append(row)
        for rows in tables.values():
            rows.sort()
        return tables

    async def snapshot(self) -> Snapshot:
        """Every row of every table (bookkeeping left out), as sorted text."""
        version = await self._current_version()
        if version != self._version or not self._last:
            self._last = await self._take()
            self._version = version
        return self._last


def diff(before: Snapshot, after: Snapshot) -> list[str]:
    return [name for name in before if before[name] != after.get(name)]


async def drain(listeners: ListenerTasks, seconds: float = 20.0) -> None:
    """Wait until no listener is still running after its ack."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while loop.time() < deadline:
        busy = listeners.running()
        if not busy:
            return
        await asyncio.wait(busy, timeout=max(0.0, deadline - loop.time()))
    raise AssertionError(f"follow-up work still running after {seconds}s")


@dataclass
class FuzzBot:
    server: BotServer
    state: StateWatcher
    logs: LogCatcher
    tenant_id: int
    tally: Tally = field(default_factory=Tally)

    async def send(
        self,
        post: Callable[[], Awaitable[SlackResponse]],
        *,
        may_change: frozenset[str] = frozenset(),
        what: str = "",
    ) -> SlackResponse:
        before = await self.state.snapshot()
        self.logs.take()
        fake = self.server.slack.fake
        first_call = len(fake.calls)
        response = await post()
        await drain(self.server.app[LISTENER_TASKS])
        after = await self.state.snapshot()
        problems = self.record(response, diff(before, after), may_change, what)
        problems += self.check_messages(response, fake.calls[first_call:], what)
        # Fail the example (Hypothesis then shrinks it to the smallest request that fails).
        assert not problems, "\n".join(problems)
        return response

    def record(
        self, response: SlackResponse, changed: list[str], may_change: frozenset[str], what: str
    ) -> list[str]:
        """Count the request; what went wrong with it (also added to the tally)."""
        tally = self.tally
        problems: list[str] = []
        tally.requests += 1
        tally.statuses[response.status] = tally.statuses.get(response.status, 0) + 1
        label = what[:200]
        if response.status >= 500:
            problems.append(f"{response.status} for {label}: {response.text[:200]}")
            tally.server_errors.append(problems[-1])
        logged = [line for line in self.logs.take() if "Traceback" in line]
        if "Traceback" in response.text or logged:
            problems.append(f"traceback for {label}: {(logged or [response.text])[0][:3000]}")
            tally.tracebacks.append(problems[-1])
        unexpected = [name for name in changed if name not in may_change]
        if changed and not unexpected:
            tally.allowed_changes += 1
        if unexpected:
            problems.append(f"{unexpected} changed by {label}")
            tally.state_changes.append(problems[-1])
        return problems

    def check_messages(self, response: SlackResponse, calls: list[ApiCall], what: str) -> list[str]:
        """Messages and views Slack would refuse (too long, too many blocks): the text that
        reached them was not capped. The fake answers invalid_blocks for Web API calls; the
        ack and response_url bodies are checked here with the same rules."""
        refused = [
            f"{c.method}: {c.answer.get('errors')}"
            for c in calls
            if c.answer.get("error") == "invalid_blocks"
        ]
        bodies = [c.params for c in calls if c.method == "response_url"]
        if isinstance(response.json, dict):
            bodies.append(response.json)
        for body in bodies:
            try:
                if "blocks" in body:
                    validate_blocks(body["blocks"])
                if isinstance(body.get("view"), dict):
                    validate_view(body["view"])
            except BlockKitError as exc:
                refused.append(f"an answer: {exc}")
        problems = [f"Slack would refuse, after {what[:200]}: {r}"[:1000] for r in refused]
        self.tally.refused_messages += problems
        return problems


async def seed_tenant(database: Database) -> int:
    """The tenant every forged click aims at: in the default channel of the default team,
    with an approver and MX gated on one approval."""
    form = validate(
        TenantForm(
            name="Contoso",
            domains="premx.test",
            time_zone="Europe/Berlin",
            approvers=(APPROVER, DEFAULT_USER),
            approvals_needed="1",
        )
    )
    caller = Caller(team_id=DEFAULT_TEAM, user_id=DEFAULT_USER, channel_id=DEFAULT_CHANNEL)
    status = await start_tenant(database.uow(), caller, form)
    return int(status.tenant.id)
