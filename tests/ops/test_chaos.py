"""Chaos: two replicas on a PostgreSQL cluster this test starts itself (the machine's binaries;
as the postgres OS user under root). While people keep typing commands, the cluster is stopped
and, during the outage, a tenant's MX moves in DNS; then the cluster comes back.

- No request is answered 5xx: commands during the outage say the database cannot be reached;
- ``/healthz`` says not ready while the database is away, ready again after;
- the jobs log the outage as a state change, not a traceback per attempt;
- the MX move is announced exactly once after the database is back;
- nothing is left claimed once the replicas stop.

Short poll intervals stand in for the real ones; every wait is on a condition.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections import Counter
from dataclasses import dataclass, field

import aiohttp
import pytest
from sqlalchemy import func, select

from bot.jobs.shutdown import finish_work
from bot.ops.config import Settings
from bot.slack.workspaces import client_for_tenant
from storage.database import Database
from storage.models import OutboxMessage, OutboxStatus, WatchPoll
from tests.oauth.conftest import start
from tests.support.bind_fixtures import BindFactory
from tests.support.fake_slack import DEFAULT_TEAM, FakeSlack
from tests.support.postgres_cluster import PostgresCluster
from tests.support.slack_fixtures import BotServer, StartServer, settings_for
from tests.support.waiting import count_rows, eventually
from tests.watch.tenants import channel_for, domain_names, m365_mx, start_tenants, watched_zones

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]

FAST = "0.5"  # poll interval (seconds): the tenant is polled often
MX_MOVED = "MX now points to Microsoft 365"
DATABASE_AWAY = "can't reach my database"


def headed(fake: FakeSlack, header: str) -> list[str]:
    return [
        str(c.params["channel"])
        for c in fake.calls_to("chat.postMessage")
        if c.answer.get("ok") and c.blocks and header in str(c.blocks[0].get("text", {}))
    ]


@dataclass
class Traffic:
    """People using the bot all along: a command on each replica in turn."""

    servers: list[BotServer]
    channel: str
    answers: list[tuple[int, str]] = field(default_factory=list)
    running: bool = True

    async def run(self) -> None:
        turn = 0
        while self.running:
            server = self.servers[turn % len(self.servers)]
            word = ("status", "history", "reminders")[turn % 3]
            response = await server.slack.command("/transition", word, channel_id=self.channel)
            self.answers.append((response.status, response.shown_text))
            turn += 1
            await asyncio.sleep(0.1)

    def told_database_away(self) -> int:
        return sum(1 for _, text in self.answers if DATABASE_AWAY in text)


async def health(server: BotServer, path: str = "/healthz") -> int:
    try:
        async with (
            aiohttp.ClientSession() as session,
            session.get(server.base_url + path) as response,
        ):
            return response.status
    except aiohttp.ClientError:
        return 0


async def test_two_replicas_ride_out_a_database_outage_with_a_dns_change_in_it(
    cluster: PostgresCluster,
    bind_factory: BindFactory,
    bot_server: StartServer,
    fake_slack: FakeSlack,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    url = cluster.url.replace("postgresql://", "postgresql+asyncpg://")
    admin = Database(url)
    (domain,) = domain_names(1, "chaos")
    zones = watched_zones([domain])
    bind = bind_factory(views={"127.0.0.1": zones, "127.0.0.2": zones})
    try:
        await admin.upgrade()
        await start_tenants(admin.uow, [domain])
    finally:
        await admin.dispose()
    settings = settings_for(
        fake_slack,
        bind.dns_config(),
        url,
        TRANSITION_POLL_SECONDS=FAST,
        TRANSITION_FAST_POLL_SECONDS=FAST,
    )
    replicas = [await bot_server(settings), await bot_server(settings)]
    sessionmaker = replicas[0].runtime.db.sessionmaker
    channel = channel_for(domain)
    traffic = Traffic(replicas, channel)
    typing = asyncio.create_task(traffic.run())
    try:
        await eventually(lambda: traffic.answers, "a first answer", within=60)

        await asyncio.to_thread(cluster.stop)
        await bind.set_records(domain, "@", "MX", m365_mx(domain), ttl=300)  # during the outage

        async def noticed() -> bool:
            statuses = [await health(server) for server in replicas]
            return statuses == [503, 503] and traffic.told_database_away() >= 4

        await eventually(noticed, "both replicas to notice the outage", within=60)
        await eventually(
            lambda: "database unreachable" in caplog.text, "the jobs' state change", within=60
        )
        assert not headed(fake_slack, MX_MOVED)  # nothing can be announced meanwhile
        # not ready, yet alive: an orchestrator must not restart every replica for an outage
        assert [await health(server, "/livez") for server in replicas] == [200, 200]

        await asyncio.to_thread(cluster.start)

        async def ready() -> bool:
            return [await health(server) for server in replicas] == [200, 200]

        await eventually(ready, "both replicas ready again", within=60)
        await eventually(
            lambda: headed(fake_slack, MX_MOVED), "the MX move announced", within=90, interval=0.2
        )

        async def outbox_drained() -> bool:
            unsent = select(func.count()).select_from(OutboxMessage)
            unsent = unsent.where(OutboxMessage.status != OutboxStatus.SENT)
            return await count_rows(sessionmaker, unsent) == 0

        await eventually(outbox_drained, "every announcement delivered", within=60)
        served_after = len(traffic.answers)
        await eventually(
            lambda: any(DATABASE_AWAY not in t for _, t in traffic.answers[served_after:]),
            "a command served after the outage",
            within=30,
        )
    finally:
        traffic.running = False
        await typing

    statuses = Counter(status for status, _ in traffic.answers)
    assert all(status < 500 for status in statuses), statuses
    assert traffic.told_database_away() >= 4
    assert headed(fake_slack, MX_MOVED) == [channel]  # exactly once
    assert "database back" in caplog.text
    tracebacks = [r for r in caplog.records if r.exc_info and r.name.startswith("apscheduler")]
    assert not tracebacks, "a job raised instead of backing off"

    for server in replicas:  # what SIGTERM runs: every lease given back
        await finish_work(server.app, server.runtime.db.sessionmaker)
    held_polls = select(func.count()).select_from(WatchPoll).where(WatchPoll.leased_by.is_not(None))
    held_rows = select(func.count()).select_from(OutboxMessage)
    held_rows = held_rows.where(OutboxMessage.leased_by.is_not(None))
    assert await count_rows(sessionmaker, held_polls) == 0
    assert await count_rows(sessionmaker, held_rows) == 0


async def test_an_uninstall_during_an_outage_is_acked_then_recorded_once_the_database_is_back(
    cluster: PostgresCluster,
    bot_server: StartServer,
    bot_settings: Settings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Never a 5xx, events included: Slack would give up its retries after five minutes, so an
    uninstall is acked and held until the database is back; a stale Home-tab event is dropped."""
    caplog.set_level(logging.INFO)
    url = cluster.url.replace("postgresql://", "postgresql+asyncpg://")
    admin = Database(url)
    try:
        await admin.upgrade()
    finally:
        await admin.dispose()
    server = await bot_server(dataclasses.replace(bot_settings, database_url=url))
    tenant = await start(server, DEFAULT_TEAM, "Solo Ltd", "solo.example")
    assert await client_for_tenant(server.runtime, tenant.tenant.id) is not None

    await asyncio.to_thread(cluster.stop)
    home = await server.slack.event({"type": "app_home_opened", "user": "U1", "tab": "home"})
    gone = await server.slack.event({"type": "app_uninstalled"}, event_id="Ev0OUTAGE001")
    assert (home.status, gone.status) == (200, 200)
    assert len(server.runtime.held_events) == 1  # the uninstall only
    assert "dropped: the database is away" in caplog.text

    await asyncio.to_thread(cluster.start)

    async def recorded() -> bool:
        return await client_for_tenant(server.runtime, tenant.tenant.id) is None

    await eventually(recorded, "the held uninstall recorded", within=60)
    await eventually(lambda: not server.runtime.held_events, "nothing left held")
    again = await server.slack.event({"type": "app_uninstalled"}, event_id="Ev0OUTAGE001")
    assert again.status == 200  # Slack's late retry: a duplicate now
    assert "Ev0OUTAGE001 already taken" in caplog.text
