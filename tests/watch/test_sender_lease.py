"""The sender's lease covers each post however long its batch ran: marking an attempt extends
the lease from that moment, and one run takes only as many rows per channel as fit in the
lease at the channel's spacing. Real database (SQLite and PostgreSQL), the fake Slack whose
chat.postMessage takes a while (with conversations.history, as the sender checks it).

Short leases and gaps stand in for the real 30 s and 1 s; the senders read an injected clock
and the fake holds each post until the test lets it go, so the overlap of two replicas is
arranged, not waited for.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app.runtime import build_web_client
from bot.core.clock import Clock, utcnow
from bot.ops.config import load_settings
from bot.watch.sender import OutboxSender, SenderOptions
from storage.models import OutboxMessage, OutboxStatus
from storage.uow import UnitOfWork
from tests.support.fake_slack import FakeSlack
from tests.support.outbox_rows import outbox_row
from tests.support.slow_slack import SlowSlack, holding
from tests.support.waiting import eventually
from tests.watch.tenants import channel_for, domain_names, start_tenants


def sender(
    sessionmaker: async_sessionmaker[AsyncSession],
    fake: FakeSlack,
    replica: str,
    *,
    lease: float,
    gap: float,
    clock: Clock = utcnow,
) -> OutboxSender:
    settings = load_settings(
        {"SLACK_BOT_TOKEN": fake.token, "SLACK_API_URL": fake.api_url}, dotenv=False
    )
    options = SenderOptions(replica, lease_seconds=lease, channel_gap=gap)
    return OutboxSender(sessionmaker, build_web_client(settings), options, clock=clock)


class SteppedClock:
    """The senders' clock: it moves only when the test moves it."""

    def __init__(self) -> None:
        self.start = self.now = utcnow() + timedelta(seconds=1)  # the queued rows are due

    def __call__(self) -> datetime:
        return self.now

    def at(self, seconds: float) -> None:
        self.now = self.start + timedelta(seconds=seconds)


async def queue(uow_factory: Callable[[], UnitOfWork], count: int) -> str:
    """``count`` announcements due now, all for one tenant's channel."""
    (domain,) = domain_names(1, "lease")
    tenant_id = (await start_tenants(uow_factory, [domain]))[domain]
    now = datetime.now(UTC)
    async with uow_factory() as uow:
        for n in range(count):
            row = outbox_row(f"lease-test:{n}", tenant_id, channel_for(domain), f"message {n}", now)
            await uow.outbox.add_rows([row])
        await uow.commit()
    return channel_for(domain)


def posts_of(fake: FakeSlack) -> list[str]:
    return [str(c.params["text"]) for c in fake.delivered()]


async def test_a_post_begun_late_in_a_batch_is_not_taken_over_mid_call(
    sessionmaker: async_sessionmaker[AsyncSession],
    uow_factory: Callable[[], UnitOfWork],
) -> None:
    """Replica A claims two rows at 0 s (lease 2 s); its first post lasts until 2.3 s, so the
    second begins after the claim's lease ended. Replica B looks at 2.8 s while that post is
    on its way: the lease taken when the attempt began keeps B off it."""
    fake = SteppedPost()
    await fake.start()
    clock = SteppedClock()
    try:
        await queue(uow_factory, 2)
        a = sender(sessionmaker, fake, "a", lease=2.0, gap=0.0, clock=clock)
        b = sender(sessionmaker, fake, "b", lease=2.0, gap=0.0, clock=clock)
        clock.at(0.0)
        posting = asyncio.create_task(a.run_once())
        await eventually(lambda: fake.arrived == 1, "A's first post")
        clock.at(2.3)
        fake.let_one_finish()
        await eventually(lambda: fake.arrived == 2, "A's second post")
        clock.at(2.8)
        assert await b.run_once() == 0
        fake.let_one_finish()
        assert await posting == 2
        assert sorted(posts_of(fake)) == ["message 0", "message 1"]
    finally:
        fake.let_all_finish()
        await fake.close()


async def test_one_run_sends_a_channel_only_what_fits_in_its_lease(
    sessionmaker: async_sessionmaker[AsyncSession],
    uow_factory: Callable[[], UnitOfWork],
    slow_slack: SlowSlack,
) -> None:
    await queue(uow_factory, 5)
    a = sender(sessionmaker, slow_slack, "a", lease=2.0, gap=0.5)
    assert await a.run_once() == 2  # 2 s lease / 0.5 s spacing, halved for 429 waits
    async with UnitOfWork(sessionmaker) as uow:
        rows = (await uow.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all()
        assert [r.status for r in rows] == [OutboxStatus.SENT] * 2 + [OutboxStatus.PENDING] * 3
        assert all(r.leased_by is None for r in rows)  # the rest given back at once
    assert await a.run_once() == 2 and await a.run_once() == 1
    assert posts_of(slow_slack) == [f"message {n}" for n in range(5)]


class SteppedPost(FakeSlack):
    """Each chat.postMessage is taken in, counted, and answered when the test lets one go."""

    def __init__(self) -> None:
        super().__init__()
        self.arrived = 0
        self._permits = asyncio.Semaphore(0)

    def let_one_finish(self) -> None:
        self._permits.release()

    def let_all_finish(self) -> None:
        for _ in range(10):
            self._permits.release()

    async def _handle_api(self, request: web.Request) -> web.Response:
        if request.match_info.get("method") == "chat.postMessage":
            self.arrived += 1
            await self._permits.acquire()
        return await super()._handle_api(request)


async def lease_of(sessionmaker: async_sessionmaker[AsyncSession]) -> datetime | None:
    async with UnitOfWork(sessionmaker) as uow:
        until = await uow.session.scalar(select(OutboxMessage.lease_until))
    return None if until is None else until.replace(tzinfo=UTC)


async def test_a_post_that_outlives_its_lease_is_never_posted_twice(
    sessionmaker: async_sessionmaker[AsyncSession],
    uow_factory: Callable[[], UnitOfWork],
) -> None:
    """Replica A's post takes several leases; replica B tries all along. A extends its lease
    while the post runs, so B never takes the row, and the message goes out once."""
    async with holding("chat.postMessage") as fake:
        await queue(uow_factory, 1)
        a = sender(sessionmaker, fake, "a", lease=1.5, gap=0.0)
        b = sender(sessionmaker, fake, "b", lease=1.5, gap=0.0)
        posting = asyncio.create_task(a.run_once())
        await asyncio.wait_for(fake.asked.wait(), 30)
        first = await lease_of(sessionmaker)
        assert first is not None
        leases = {first}
        taken_by_b = 0

        async def extended_twice() -> bool:
            nonlocal taken_by_b
            taken_by_b += await b.run_once()  # B keeps trying while A's post runs
            until = await lease_of(sessionmaker)
            if until is not None:
                leases.add(until)
            return len(leases) >= 3  # the first lease and two extensions: 2 leases outlived

        await eventually(extended_twice, "A to extend its lease twice", within=60)
        fake.may_answer.set()
        assert await posting == 1
        assert taken_by_b == 0 and await b.run_once() == 0
        assert posts_of(fake) == ["message 0"]
        assert len(fake.calls_to("chat.postMessage")) == 1
