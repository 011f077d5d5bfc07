"""SIGTERM to `transition-bot serve` mid-sweep: it exits 0 within 10 s, holds no lease
afterwards, and a second process finishes the work; every announcement is posted exactly once.

Real processes (``python -m bot.cli serve``), BIND serving 200 watched domains, the fake Slack
with conversations.history (the sender's check after a cut-off delivery), the test database
(SQLite, and PostgreSQL when TEST_DATABASE_URL is set). The two processes run one after the
other, so SQLite's one-writer rule holds.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import OutboxMessage, OutboxStatus, WatchPoll
from storage.uow import UnitOfWork
from tests.support.bind import BindServer
from tests.support.bind_fixtures import BindFactory
from tests.support.fake_slack import DEFAULT_TOKEN, FakeSlack
from tests.support.slack_requests import DEFAULT_SIGNING_SECRET
from tests.support.slow_slack import SlowSlack
from tests.support.waiting import count_rows, eventually
from tests.watch.tenants import channel_for, domain_names, start_tenants, watched_zones

pytestmark = [pytest.mark.slow, pytest.mark.timeout(480)]

DOMAINS = 200
RECORDS_READY = "DNS records are ready"
STOP_WITHIN = 10.0  # the orchestrator's grace period the issue asks us to fit in


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Serve:
    """One `transition-bot serve` process with its log file."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.port = _free_port()
        self.log = log
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bot.cli", "serve", "--host", "127.0.0.1"],
                env={**env, "PORT": str(self.port)},
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    @property
    def text(self) -> str:
        return self.log.read_text(errors="replace")

    async def healthy(self) -> bool:
        try:
            async with (
                aiohttp.ClientSession() as session,
                session.get(f"http://127.0.0.1:{self.port}/healthz") as response,
            ):
                return response.status == 200
        except aiohttp.ClientError:
            return False

    async def exited(self, within: float) -> int:
        """Wait for the exit in a thread, so the fake Slack on this loop keeps answering."""
        return await asyncio.to_thread(self.process.wait, within)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def serve(
    database_url: str, slow_slack: SlowSlack, tmp_path: Path
) -> Iterator[Callable[[BindServer, str], Serve]]:
    started: list[Serve] = []

    def start(bind: BindServer, name: str) -> Serve:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "TRANSITION_"))},
            "SLACK_BOT_TOKEN": DEFAULT_TOKEN,
            "SLACK_SIGNING_SECRET": DEFAULT_SIGNING_SECRET,
            "SLACK_API_URL": slow_slack.api_url,
            "DATABASE_URL": database_url,
            "TRANSITION_NAMESERVERS": bind.nameserver_arg,
            "TRANSITION_DNS_PORT": str(bind.port),
            "TRANSITION_DNS_TIMEOUT": "2",
            # Each tenant's first poll is due at once; no re-poll comes within the test. Watched
            # tenants re-polled every second kept SQLite's one writer from the sender.
            "TRANSITION_POLL_SECONDS": "300",
            "TRANSITION_FAST_POLL_SECONDS": "1",  # the poll tick: a quarter of it
            "LOG_LEVEL": os.environ.get("H7B_LOG_LEVEL", "INFO"),
        }
        process = Serve(env, tmp_path / f"{name}.log")
        started.append(process)
        return process

    try:
        yield start
    finally:
        for process in started:
            process.stop()


def announced(fake: FakeSlack) -> list[str]:
    return [
        str(c.params["channel"])
        for c in fake.delivered()
        if c.blocks and RECORDS_READY in str(c.blocks[0].get("text", {}).get("text", ""))
    ]


async def test_sigterm_mid_sweep_releases_leases_and_loses_or_doubles_nothing(
    bind_factory: BindFactory,
    sessionmaker: async_sessionmaker[AsyncSession],
    uow_factory: Callable[[], UnitOfWork],
    slow_slack: SlowSlack,
    serve: Callable[[BindServer, str], Serve],
) -> None:
    domains = domain_names(DOMAINS)
    zones = watched_zones(domains)
    bind = bind_factory(views={"127.0.0.1": zones, "127.0.0.2": zones})
    await start_tenants(uow_factory, domains)
    leased = select(func.count()).select_from(WatchPoll).where(WatchPoll.leased_by.is_not(None))
    outbox_leased = (
        select(func.count()).select_from(OutboxMessage).where(OutboxMessage.leased_by.is_not(None))
    )

    slow_slack.post_delay = 0.25
    first = serve(bind, "first")
    await eventually(
        first.healthy, "the first process to serve", within=120, context=lambda: first.text[-3000:]
    )

    async def sweeping() -> bool:
        return await count_rows(sessionmaker, leased) > 0 or bool(announced(slow_slack))

    await eventually(
        sweeping, "the first sweep to start", within=120, context=lambda: first.text[-3000:]
    )
    first.process.send_signal(signal.SIGTERM)
    stopped_at = time.monotonic()
    exit_code = await first.exited(within=30)  # the fake Slack answers meanwhile: no blocking
    took = time.monotonic() - stopped_at
    assert exit_code == 0, first.text[-3000:]
    assert took < STOP_WITHIN, f"took {took:.1f}s to stop\n{first.text[-3000:]}"
    assert "shutdown: released" in first.text
    assert "Traceback" not in first.text, first.text[-3000:]

    # Nothing is left leased to the stopped process: the next one need not wait for expiry.
    assert await count_rows(sessionmaker, leased) == 0
    assert await count_rows(sessionmaker, outbox_leased) == 0
    by_first = len(announced(slow_slack))
    assert by_first < DOMAINS, "the first process finished everything: no handover to test"

    slow_slack.post_delay = 0.0
    second = serve(bind, "second")

    async def all_delivered() -> bool:
        if len(set(announced(slow_slack))) < DOMAINS:
            return False
        waiting = (
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.status != OutboxStatus.SENT)
        )
        return await count_rows(sessionmaker, waiting) == 0

    await eventually(
        all_delivered,
        "every announcement delivered",
        # a loaded machine makes the fake Slack time out, and the sender then backs off as from
        # a Slack outage (capped at a minute): the deadline leaves room for a few such waits
        within=300,
        context=lambda: second.text[-3000:],
    )
    assert Counter(announced(slow_slack)) == Counter(map(channel_for, domains))
    assert len(announced(slow_slack)) > by_first  # the second did the rest
