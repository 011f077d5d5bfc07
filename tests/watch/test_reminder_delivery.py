"""Reminders go through the outbox: a post that fails is delivered by a later send, and two
replicas running the reminder job at once post it once.

The bot's real servers (their scheduler paused: the tests are the clock) on the test database
(SQLite, and PostgreSQL with TEST_DATABASE_URL), BIND, the fake Slack Web API.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.jobs.background import SCHEDULER
from bot.jobs.reminders import run_reminders
from bot.jobs.watch import build_watch
from bot.ops.config import Settings
from bot.services.common import Caller
from bot.services.reminders import set_reminder
from storage.models import OutboxMessage, OutboxStatus
from storage.uow import UnitOfWork
from tests.support.fake_slack import FakeSlack
from tests.support.slack_fixtures import BotServer, StartServer
from tests.watch.tenants import REQUESTER, TEAM, channel_for, domain_names, start_tenants

SET_AT = datetime(2026, 6, 1, 6, 0, tzinfo=UTC)
DUE = datetime(2026, 6, 1, 9, 0, 5, tzinfo=UTC)  # 09:00 UTC, five seconds late


def reminder_posts(fake: FakeSlack) -> list[str]:
    return [
        str(c.params["channel"])
        for c in fake.calls_to("chat.postMessage")
        if c.answer.get("ok") and "Reminder for" in c.text
    ]


async def paused(bot_server: StartServer, settings: Settings) -> BotServer:
    server = await bot_server(settings)
    # the start-up catch-up run must be over, or it could claim the test's reminder first
    await server.app[SCHEDULER].pause_and_drain()
    return server


async def with_reminder(uow_factory: Callable[[], UnitOfWork]) -> str:
    (domain,) = domain_names(1, "rem")
    await start_tenants(uow_factory, [domain], time_zone="UTC")
    channel = channel_for(domain)
    await set_reminder(uow_factory(), Caller(TEAM, REQUESTER, channel), "daily 09:00", SET_AT)
    return channel


async def test_a_reminder_whose_post_fails_is_delivered_by_a_later_send(
    database_url: str,  # first: dropped after the server stopped
    bot_server: StartServer,
    bot_settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    uow_factory: Callable[[], UnitOfWork],
    fake_slack: FakeSlack,
) -> None:
    server = await paused(bot_server, dataclasses.replace(bot_settings, database_url=database_url))
    channel = await with_reminder(uow_factory)

    fake_slack.fail_next("chat.postMessage", error="not_in_channel")
    assert await run_reminders(server.runtime, now=DUE) == 0
    assert reminder_posts(fake_slack) == []
    assert await run_reminders(server.runtime, now=DUE + timedelta(seconds=30)) == 0  # claimed

    async with UnitOfWork(sessionmaker) as uow:  # its backoff is over
        await uow.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.kind == "reminder")
            .values(next_attempt_at=datetime.now(UTC) - timedelta(seconds=1))
        )
        await uow.commit()
    assert await build_watch(server.runtime, "later").sender.run_once() >= 1
    assert reminder_posts(fake_slack) == [channel]
    async with UnitOfWork(sessionmaker) as uow:
        assert await uow.outbox.count(OutboxStatus.PENDING) == 0


async def test_two_replicas_running_the_reminder_job_at_once_post_once(
    database_url: str,
    bot_server: StartServer,
    bot_settings: Settings,
    uow_factory: Callable[[], UnitOfWork],
    fake_slack: FakeSlack,
) -> None:
    settings = dataclasses.replace(bot_settings, database_url=database_url)
    first, second = await paused(bot_server, settings), await paused(bot_server, settings)
    channel = await with_reminder(uow_factory)

    posted = await asyncio.gather(
        run_reminders(first.runtime, now=DUE), run_reminders(second.runtime, now=DUE)
    )
    assert sorted(posted) == [0, 1]
    assert reminder_posts(fake_slack) == [channel]
