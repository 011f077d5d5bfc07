"""Three `transition-bot serve` replicas on one PostgreSQL, one fake Slack, BIND with 200
watched domains: 50 MX changes are announced exactly once each, and when one replica is killed
with SIGKILL mid-run the others take over its leased tenants and nothing is lost.

PostgreSQL is required: ``TEST_DATABASE_URL``, or the cluster the tests start themselves; without
either the ``_postgres`` fixture fails the test with what to install. It never skips.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import OutboxMessage, OutboxStatus, WatchObservation, WatchPoll
from storage.uow import UnitOfWork
from tests.support.bind import BindServer
from tests.support.bind_fixtures import BindFactory
from tests.support.fake_slack import DEFAULT_TOKEN, FakeSlack
from tests.support.slack_requests import DEFAULT_SIGNING_SECRET
from tests.support.waiting import count_rows, eventually
from tests.watch.tenants import channel_for, domain_names, m365_mx, start_tenants, watched_zones

pytestmark = [pytest.mark.slow, pytest.mark.timeout(420)]

DOMAINS = 200
MOVED = 50
REPLICAS = 3
FAST = 1.0  # TRANSITION_POLL_SECONDS and TRANSITION_FAST_POLL_SECONDS: every second
LEASE = 20.0  # bot.jobs.watch.lease_seconds for FAST = 1 s
MX_MOVED = "MX now points to Microsoft 365"
RECORDS_READY = "DNS records are ready"


@pytest.fixture
def backend() -> str:
    """This test needs PostgreSQL (SKIP LOCKED, several writers): no SQLite variant."""
    return "postgresql"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Replicas:
    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env = env
        self.logs = logs
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self, count: int) -> None:
        for index in range(count):
            log = (self.logs / f"replica{index}.log").open("wb")
            env = {**self.env, "PORT": str(_free_port())}
            self.processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "bot.cli", "serve", "--host", "127.0.0.1"],
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
            log.close()

    def kill(self, index: int) -> None:
        process = self.processes[index]
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    def alive(self) -> list[int]:
        return [p.pid for p in self.processes if p.poll() is None]

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def log_tail(self) -> str:
        return "\n".join(
            f"--- {p.name}\n" + "\n".join(p.read_text(errors="replace").splitlines()[-15:])
            for p in sorted(self.logs.glob("replica*.log"))
        )


@pytest.fixture
def replicas(
    database_url: str, fake_slack: FakeSlack, tmp_path: Path
) -> Iterator[Callable[[BindServer], Replicas]]:
    started: list[Replicas] = []

    def make(bind: BindServer) -> Replicas:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "TRANSITION_"))},
            "SLACK_BOT_TOKEN": DEFAULT_TOKEN,
            "SLACK_SIGNING_SECRET": DEFAULT_SIGNING_SECRET,
            "SLACK_API_URL": fake_slack.api_url,
            "DATABASE_URL": database_url,
            "TRANSITION_NAMESERVERS": bind.nameserver_arg,
            "TRANSITION_DNS_PORT": str(bind.port),
            "TRANSITION_DNS_TIMEOUT": "2",
            "TRANSITION_POLL_SECONDS": str(FAST),
            "TRANSITION_FAST_POLL_SECONDS": str(FAST),
            "LOG_LEVEL": "WARNING",
        }
        group = Replicas(env, tmp_path)
        started.append(group)
        return group

    try:
        yield make
    finally:
        for group in started:
            group.stop()


def headed(fake_slack: FakeSlack, header: str) -> list[str]:
    """Channels of the successful posts whose header contains ``header``."""
    return [
        c.params["channel"]
        for c in fake_slack.calls_to("chat.postMessage")
        if c.answer.get("ok") and c.blocks and header in c.blocks[0]["text"]["text"]
    ]


async def test_three_replicas_announce_each_mx_move_once_and_survive_a_kill(
    bind_factory: BindFactory,
    sessionmaker: async_sessionmaker[AsyncSession],
    uow_factory: Callable[[], UnitOfWork],
    fake_slack: FakeSlack,
    replicas: Callable[[BindServer], Replicas],
) -> None:
    domains = domain_names(DOMAINS)
    zones = watched_zones(domains)
    bind = bind_factory(views={"127.0.0.1": zones, "127.0.0.2": zones})
    await start_tenants(uow_factory, domains)
    group = replicas(bind)
    group.start(REPLICAS)

    # Every tenant observed once and its records-ready announcement delivered, once.
    await eventually(
        lambda: len(headed(fake_slack, RECORDS_READY)) >= DOMAINS,
        "records-ready x200",
        within=180.0,
        interval=0.25,
        context=group.log_tail,
    )
    assert Counter(headed(fake_slack, RECORDS_READY)) == Counter(map(channel_for, domains))

    moved = domains[:MOVED]
    for domain in moved:
        await bind.set_records(domain, "@", "MX", m365_mx(domain), ttl=300)

    # Mid-run: once the first move is announced, kill a replica while it holds leases.
    await eventually(
        lambda: headed(fake_slack, MX_MOVED),
        "a first mx-moved",
        within=180.0,
        interval=0.25,
        context=group.log_tail,
    )
    victim = group.processes[0].pid
    held_by_victim = (
        select(WatchPoll.tenant_id)
        .where(WatchPoll.leased_by.like(f"%-{victim}-%"))
        .scalar_subquery()
    )
    count_held = (
        select(func.count()).select_from(WatchPoll).where(WatchPoll.tenant_id.in_(held_by_victim))
    )
    await eventually(
        lambda: count_rows(sessionmaker, count_held),
        "the victim holding leases",
        within=180.0,
        interval=0.25,
        context=group.log_tail,
    )
    group.kill(0)
    killed_at = datetime.now(UTC)
    assert len(group.alive()) == REPLICAS - 1
    async with UnitOfWork(sessionmaker) as uow:
        orphaned = set(
            (
                await uow.session.scalars(
                    select(WatchPoll.tenant_id).where(WatchPoll.leased_by.like(f"%-{victim}-%"))
                )
            ).all()
        )
    assert orphaned, "the killed replica held no lease: nothing to take over"

    await eventually(
        lambda: len(set(headed(fake_slack, MX_MOVED))) >= MOVED,
        "50 mx-moved",
        within=180.0,
        interval=0.25,
        context=group.log_tail,
    )

    # Let every tenant be polled again after the dead replica's leases expired, then settle.
    def polled_since(at: datetime) -> Callable[[], Awaitable[bool]]:
        async def every_tenant() -> bool:
            stale = await count_rows(
                sessionmaker,
                select(func.count())
                .select_from(WatchPoll)
                .where(
                    (WatchPoll.last_polled_at.is_(None))
                    | (WatchPoll.last_polled_at < at.replace(microsecond=0))
                ),
            )
            return stale == 0

        return every_tenant

    await eventually(
        polled_since(killed_at),
        "every tenant polled after the kill",
        within=180.0,
        interval=0.25,
        context=group.log_tail,
    )
    # One more round of polls after that (leases of the killed replica long expired): a
    # duplicate announcement would be in the outbox by then.
    await eventually(
        polled_since(datetime.now(UTC)),
        "every tenant polled once more",
        within=180.0,
        interval=0.25,
        context=group.log_tail,
    )

    async def outbox_drained() -> bool:
        pending = await count_rows(
            sessionmaker,
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.status != OutboxStatus.SENT),
        )
        return pending == 0

    await eventually(
        outbox_drained, "outbox delivered", within=180.0, interval=0.25, context=group.log_tail
    )

    announced = headed(fake_slack, MX_MOVED)
    assert Counter(announced) == Counter(map(channel_for, moved)), "each move exactly once"
    assert Counter(headed(fake_slack, RECORDS_READY)) == Counter(map(channel_for, domains))
    assert (
        await count_rows(sessionmaker, select(func.count()).select_from(WatchObservation))
        == DOMAINS
    )
    # The dead replica's tenants were taken over: polled again after the kill, by survivors.
    async with UnitOfWork(sessionmaker) as uow:
        rows = (
            await uow.session.scalars(select(WatchPoll).where(WatchPoll.tenant_id.in_(orphaned)))
        ).all()
        assert all(r.last_polled_at is not None and r.last_polled_at > killed_at for r in rows)
        assert not any(r.leased_by and f"-{victim}-" in r.leased_by for r in rows)
    assert len(group.alive()) == REPLICAS - 1
