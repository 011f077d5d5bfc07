"""The watch end to end in one process: real BIND, a real database (SQLite and PostgreSQL),
the fake Slack Web API. Polls are made due by short intervals, never by sleeping."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app.runtime import build_web_client
from bot.core.approvals import Decision
from bot.core.runbook import Status, StepId
from bot.ops.config import load_settings
from bot.services.approvals import request_approval, vote
from bot.services.common import Caller
from bot.services.steps import complete_step
from bot.watch.poller import Poller, WatchOptions
from bot.watch.sender import OutboxSender, SenderOptions
from storage.models import OutboxMessage, OutboxStatus
from storage.uow import UnitOfWork
from tests.support.bind import BindServer
from tests.support.bind_fixtures import BindFactory
from tests.support.fake_slack import FakeSlack
from tests.watch.tenants import (
    APPROVERS,
    REQUESTER,
    TEAM,
    channel_for,
    domain_names,
    m365_mx,
    start_tenants,
    watched_zones,
)

DUE_NOW = 0.000001  # seconds: every tick finds every tenant due again


def both_servers(bind_factory: BindFactory, zones: dict[str, str]) -> BindServer:
    return bind_factory(views={"127.0.0.1": zones, "127.0.0.2": zones})


def make_poller(
    sessionmaker: async_sessionmaker[AsyncSession], bind: BindServer, replica: str = "r1"
) -> Poller:
    options = WatchOptions(replica, poll_seconds=DUE_NOW, fast_poll_seconds=DUE_NOW)
    return Poller(sessionmaker, bind.dns_config(timeout=2.0), options)


def make_sender(
    sessionmaker: async_sessionmaker[AsyncSession], fake_slack: FakeSlack, replica: str = "r1"
) -> OutboxSender:
    settings = load_settings(
        {"SLACK_BOT_TOKEN": fake_slack.token, "SLACK_API_URL": fake_slack.api_url}, dotenv=False
    )
    options = SenderOptions(replica, channel_gap=0.0)
    return OutboxSender(sessionmaker, build_web_client(settings), options)


async def is_fast(sessionmaker: async_sessionmaker[AsyncSession], tenant_id: int) -> bool:
    async with UnitOfWork(sessionmaker) as uow:
        poll = await uow.polls.get(tenant_id)
        assert poll is not None and poll.leased_by is None  # the lease was released
        return poll.fast


def posted(fake_slack: FakeSlack, header: str) -> list[str]:
    """Channels that received a message whose header contains ``header``."""
    return [
        c.params["channel"]
        for c in fake_slack.calls_to("chat.postMessage")
        if c.answer.get("ok") and c.blocks and header in c.blocks[0]["text"]["text"]
    ]


async def test_mx_move_is_announced_once_per_domain(
    bind_factory: BindFactory,
    sessionmaker: async_sessionmaker[AsyncSession],
    uow_factory: Callable[[], UnitOfWork],
    fake_slack: FakeSlack,
) -> None:
    domains = domain_names(6)
    bind = both_servers(bind_factory, watched_zones(domains))
    await start_tenants(uow_factory, domains)
    poller, sender = make_poller(sessionmaker, bind), make_sender(sessionmaker, fake_slack)

    results = await poller.run_once()
    assert len(results) == 6 and all(r.stored for r in results)
    assert await sender.run_once() == 6
    assert sorted(posted(fake_slack, "DNS records are ready")) == sorted(map(channel_for, domains))

    moved = domains[:2]
    for domain in moved:
        await bind.set_records(domain, "@", "MX", m365_mx(domain), ttl=120)
    await poller.run_once()
    await sender.run_once()
    for _ in range(3):  # nothing new: no more posts however often it polls
        await poller.run_once()
        await sender.run_once()

    assert sorted(posted(fake_slack, "MX now points to Microsoft 365")) == sorted(
        map(channel_for, moved)
    )
    # The data step is open: moving MX is early, and says so loudly, mentioning approvers.
    early = [c for c in fake_slack.calls_to("chat.postMessage") if "<@U0APP1>" in c.text]
    assert sorted(c.params["channel"] for c in early) == sorted(map(channel_for, moved))
    assert len(fake_slack.calls_to("chat.postMessage")) == 6 + 2 * 2


async def test_one_server_behind_is_partial_then_moved(
    bind_factory: BindFactory,
    sessionmaker: async_sessionmaker[AsyncSession],
    uow_factory: Callable[[], UnitOfWork],
    fake_slack: FakeSlack,
) -> None:
    (domain,) = domain_names(1, "p")
    bind = both_servers(bind_factory, watched_zones([domain]))
    tenant_id = (await start_tenants(uow_factory, [domain]))[domain]
    poller, sender = make_poller(sessionmaker, bind), make_sender(sessionmaker, fake_slack)
    await poller.run_once()
    assert not await is_fast(sessionmaker, tenant_id)

    await bind.set_records(domain, "@", "MX", m365_mx(domain), servers=["127.0.0.1"])
    await poller.run_once()
    await sender.run_once()
    partial = await fake_slack.wait_for(
        "chat.postMessage", lambda c: "some name servers" in c.blocks[0]["text"]["text"]
    )
    assert "127.0.0.2" in partial.text and "not yet on" in partial.text
    assert await is_fast(sessionmaker, tenant_id)  # partly moved: polled at the fast interval

    await bind.set_records(domain, "@", "MX", m365_mx(domain), servers=["127.0.0.2"])
    await poller.run_once()
    await sender.run_once()
    moved = await fake_slack.wait_for(
        "chat.postMessage", lambda c: "MX now points" in c.blocks[0]["text"]["text"]
    )
    assert "caches expire by" in moved.text
    assert not await is_fast(sessionmaker, tenant_id)  # moved everywhere: back to slow


async def test_crash_before_send_loses_nothing(
    bind_factory: BindFactory,
    sessionmaker: async_sessionmaker[AsyncSession],
    uow_factory: Callable[[], UnitOfWork],
    fake_slack: FakeSlack,
) -> None:
    """The poll commits its announcements; a sender that starts later (a restarted process)
    delivers them; Slack failing for a while only delays them."""
    domains = domain_names(2, "c")
    bind = both_servers(bind_factory, watched_zones(domains))
    await start_tenants(uow_factory, domains)
    await make_poller(sessionmaker, bind).run_once()
    assert fake_slack.calls_to("chat.postMessage") == []  # nothing sent yet: "crash" here

    fake_slack.fail_next("chat.postMessage", error="not_in_channel")
    sender = make_sender(sessionmaker, fake_slack, replica="after-restart")
    assert await sender.run_once() == 1
    async with UnitOfWork(sessionmaker) as uow:
        assert await uow.outbox.count(OutboxStatus.PENDING) == 1
        assert await uow.outbox.count(OutboxStatus.SENT) == 1
    # The failed row waits for its backoff; make it due and send it.
    async with UnitOfWork(sessionmaker) as uow:
        await uow.session.execute(
            update(OutboxMessage).values(next_attempt_at=OutboxMessage.created_at)
        )
        await uow.commit()
    assert await sender.run_once() == 1
    async with UnitOfWork(sessionmaker) as uow:
        assert await uow.outbox.count(OutboxStatus.SENT) == 2
    assert sorted(posted(fake_slack, "DNS records are ready")) == sorted(map(channel_for, domains))


async def test_two_replicas_polling_the_same_tenant_announce_once(
    bind_factory: BindFactory,
    sessionmaker: async_sessionmaker[AsyncSession],
    uow_factory: Callable[[], UnitOfWork],
) -> None:
    """Even when two replicas poll one tenant at the same time (a lease that expired under a
    slow poll), the version check lets one store and the dedupe key keeps one announcement."""
    domains = domain_names(1, "r")
    bind = both_servers(bind_factory, watched_zones(domains))
    ids = await start_tenants(uow_factory, domains)
    a, b = make_poller(sessionmaker, bind, "a"), make_poller(sessionmaker, bind, "b")
    results = await asyncio.gather(a.poll_tenant(ids[domains[0]]), b.poll_tenant(ids[domains[0]]))
    assert sorted(r.stored for r in results) == [False, True]
    async with UnitOfWork(sessionmaker) as uow:
        rows = await uow.outbox.for_tenant(ids[domains[0]])
        assert [r.kind for r in rows] == ["records-ready"]


async def test_a_post_whose_sender_died_mid_call_is_not_posted_twice(
    bind_factory: BindFactory,
    sessionmaker: async_sessionmaker[AsyncSession],
    uow_factory: Callable[[], UnitOfWork],
    fake_slack: FakeSlack,
) -> None:
    """Replica A counts the attempt and posts, then dies before marking the row sent. When
    the lease expires, B finds the key in the channel's history and marks the row sent."""
    domains = domain_names(2, "d")
    bind = both_servers(bind_factory, watched_zones(domains))
    await start_tenants(uow_factory, domains)
    await make_poller(sessionmaker, bind).run_once()
    a = make_sender(sessionmaker, fake_slack, "a")

    rows = await a._claim()
    assert len(rows) == 2
    first, second = rows
    assert await a._begin_attempt(first) and await a._begin_attempt(second)
    posted_ = await a._call(first, None)  # A dies here: posted, never settled
    assert posted_.ok
    async with UnitOfWork(sessionmaker) as uow:  # ...and its leases run out
        await uow.session.execute(
            update(OutboxMessage).values(lease_until=OutboxMessage.created_at)
        )
        await uow.commit()

    b = make_sender(sessionmaker, fake_slack, "b")
    assert await b.run_once() == 2
    channels = [c.params["channel"] for c in fake_slack.delivered()]
    assert sorted(channels) == sorted(map(channel_for, domains))  # one post each
    assert len(fake_slack.calls_to("conversations.history")) == 2
    async with UnitOfWork(sessionmaker) as uow:
        rows_ = await uow.outbox.for_tenant(first.tenant_id)
        assert rows_[0].status == OutboxStatus.SENT and rows_[0].message_ts == posted_.ts


async def test_ready_to_move_after_approval_then_moved_completes_the_mx_step(
    bind_factory: BindFactory,
    sessionmaker: async_sessionmaker[AsyncSession],
    uow_factory: Callable[[], UnitOfWork],
    fake_slack: FakeSlack,
) -> None:
    (domain,) = domain_names(1, "g")
    bind = both_servers(bind_factory, watched_zones([domain]))
    tenant = (await start_tenants(uow_factory, [domain]))[domain]
    poller, sender = make_poller(sessionmaker, bind), make_sender(sessionmaker, fake_slack)
    await poller.run_once()  # records ready: the dns step is done by the bot
    requester = Caller(TEAM, REQUESTER, channel_for(domain))
    await complete_step(uow_factory(), requester, StepId.VERIFY_DATA.value, "seen in OWA")
    request = await request_approval(uow_factory(), requester, "mx")
    await poller.run_once()
    assert not await is_fast(sessionmaker, tenant)  # requested, not yet approved
    approver = Caller(TEAM, APPROVERS[0], channel_for(domain))
    await vote(uow_factory(), approver, tenant, request.id, Decision.APPROVE)

    await poller.run_once()
    await sender.run_once()
    ready = await fake_slack.wait_for("chat.postMessage", lambda c: "change MX now" in c.text)
    assert f"usually {domain.replace('.', '-')}.mail.protection.outlook.com" in ready.text
    assert "current TTL 300 s" in ready.text
    assert await is_fast(sessionmaker, tenant)  # approved: the fast interval

    await bind.set_records(domain, "@", "MX", m365_mx(domain))
    await poller.run_once()
    await sender.run_once()
    moved = await fake_slack.wait_for("chat.postMessage", lambda c: "MX now points" in c.text)
    assert "caches expire by" in moved.text
    assert not [c for c in fake_slack.calls_to("chat.postMessage") if "<@U0APP1>" in c.text]
    async with uow_factory() as uow:
        step = await uow.steps.get(tenant, StepId.MX)
        assert step is not None and step.status == Status.DONE and step.actor_id == "bot"


async def test_uninstalled_workspace_is_neither_polled_nor_posted_to(
    bind_factory: BindFactory,
    sessionmaker: async_sessionmaker[AsyncSession],
    uow_factory: Callable[[], UnitOfWork],
    fake_slack: FakeSlack,
) -> None:
    domains = domain_names(2, "u")
    bind = both_servers(bind_factory, watched_zones(domains))
    await start_tenants(uow_factory, domains)
    poller, sender = make_poller(sessionmaker, bind), make_sender(sessionmaker, fake_slack)
    assert len(await poller.run_once()) == 2  # announcements written, not yet sent
    async with uow_factory() as uow:
        await uow.workspaces.mark_uninstalled(TEAM, datetime.now(UTC))
        await uow.commit()
    assert await poller.run_once() == []
    assert await sender.run_once() == 0
    assert fake_slack.calls_to("chat.postMessage") == []


async def test_oauth_install_posts_with_each_workspace_token(
    bind_factory: BindFactory,
    sessionmaker: async_sessionmaker[AsyncSession],
    uow_factory: Callable[[], UnitOfWork],
    fake_slack: FakeSlack,
) -> None:
    domains = domain_names(2, "o")
    bind = both_servers(bind_factory, watched_zones(domains))
    ids = await start_tenants(uow_factory, domains)
    await make_poller(sessionmaker, bind).run_once()
    tokens = {ids[domains[0]]: fake_slack.token}  # the second workspace has no installation

    async def token_for(tenant_id: int) -> str | None:
        return tokens.get(tenant_id)

    settings = load_settings({"SLACK_API_URL": fake_slack.api_url}, dotenv=False)
    sender = OutboxSender(
        sessionmaker,
        build_web_client(settings, token="xoxb-not-for-any-workspace"),
        SenderOptions("r1", channel_gap=0.0),
        token_for=token_for,
        client_for_token=lambda token: build_web_client(settings, token),
    )
    assert await sender.run_once() == 1
    (call,) = fake_slack.calls_to("chat.postMessage")
    assert call.token == fake_slack.token and call.params["channel"] == channel_for(domains[0])
    async with uow_factory() as uow:
        rows = await uow.outbox.for_tenant(ids[domains[1]])
        assert rows[0].status == OutboxStatus.PENDING and "no bot token" in (
            rows[0].last_error or ""
        )


async def test_an_approval_makes_the_tenant_due_at_once(
    bind_factory: BindFactory,
    sessionmaker: async_sessionmaker[AsyncSession],
    uow_factory: Callable[[], UnitOfWork],
) -> None:
    """Polled at the slow interval (an hour here), a tenant whose MX approval is granted or
    whose data step is confirmed is polled on the next tick, not an hour later."""
    (domain,) = domain_names(1, "h")
    bind = both_servers(bind_factory, watched_zones([domain]))
    tenant = (await start_tenants(uow_factory, [domain]))[domain]
    slow = Poller(
        sessionmaker,
        bind.dns_config(timeout=2.0),
        WatchOptions("r1", poll_seconds=3600, fast_poll_seconds=3600),
    )
    assert [r.tenant_id for r in await slow.run_once()] == [tenant]
    assert await slow.run_once() == []  # not due for an hour
    requester = Caller(TEAM, REQUESTER, channel_for(domain))
    await complete_step(uow_factory(), requester, StepId.VERIFY_DATA.value, "seen in OWA")
    assert [r.tenant_id for r in await slow.run_once()] == [tenant]
    assert await slow.run_once() == []
    request = await request_approval(uow_factory(), requester, "mx")
    assert await slow.run_once() == []  # asked, not granted: nothing to poll for
    approver = Caller(TEAM, APPROVERS[0], channel_for(domain))
    await vote(uow_factory(), approver, tenant, request.id, Decision.APPROVE)
    (result,) = await slow.run_once()
    assert result.tenant_id == tenant and result.events == 1  # ready-to-move-mx
