"""SIGTERM while a reminder is claimed: the reminder job has claimed a due reminder (its post
is in the outbox, leased to this replica while the job asks Slack who has not acknowledged the
passwords step) when the replica is told to stop. The shutdown gives the claim back and
flushes it, so the reminder is posted before the process exits instead of waiting out the
claim on another replica; the job's own late delivery then posts nothing more.

The bot's real server (its scheduler paused: the test runs the job with a fixed time), the
test database (SQLite and PostgreSQL), a fake Slack whose conversations.members hangs until
the test lets it answer.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Callable

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.dnscheck.model import DnsConfig
from bot.jobs.background import SCHEDULER
from bot.jobs.reminders import run_reminders
from bot.jobs.shutdown import finish_work
from bot.ops.config import Settings
from storage.models import OutboxMessage, OutboxStatus, WatchPoll
from storage.uow import UnitOfWork
from tests.support.slack_fixtures import NO_DNS, StartServer
from tests.support.slow_slack import HeldMethod, holding
from tests.support.waiting import count_rows, eventually
from tests.watch.test_reminder_delivery import DUE, paused, reminder_posts, with_reminder


@pytest.fixture
async def fake_slack() -> AsyncIterator[HeldMethod]:
    async with holding("conversations.members") as fake:  # until the test lets it answer
        yield fake


@pytest.fixture
def slack_dns_config() -> DnsConfig:
    return NO_DNS


async def leased(sessionmaker: async_sessionmaker[AsyncSession], holder: str) -> int:
    return await count_rows(
        sessionmaker,
        select(func.count()).select_from(OutboxMessage).where(OutboxMessage.leased_by == holder),
    )


async def test_sigterm_gives_a_claimed_reminder_back_and_flushes_it(
    database_url: str,  # first: dropped after the server stopped
    bot_server: StartServer,
    bot_settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    uow_factory: Callable[[], UnitOfWork],
    fake_slack: HeldMethod,
) -> None:
    server = await paused(bot_server, dataclasses.replace(bot_settings, database_url=database_url))
    channel = await with_reminder(uow_factory)
    replica = server.app[SCHEDULER].replica
    job = asyncio.create_task(run_reminders(server.runtime, now=DUE, replica=replica))
    await eventually(lambda: leased(sessionmaker, replica), "the reminder claimed by the job")
    await asyncio.wait_for(fake_slack.asked.wait(), 60)  # the job is under way
    assert reminder_posts(fake_slack) == []

    await finish_work(server.app, server.runtime.db.sessionmaker)  # what SIGTERM runs

    assert reminder_posts(fake_slack) == [channel]  # flushed before the exit
    assert await leased(sessionmaker, replica) == 0
    assert (
        await count_rows(
            sessionmaker,
            select(func.count()).select_from(WatchPoll).where(WatchPoll.leased_by.is_not(None)),
        )
        == 0
    )
    fake_slack.may_answer.set()
    assert await job == 0  # the job's own delivery finds the row sent: no second post
    assert reminder_posts(fake_slack) == [channel]
    async with UnitOfWork(sessionmaker) as uow:
        statuses = (await uow.session.scalars(select(OutboxMessage.status))).all()
    assert list(statuses) == [OutboxStatus.SENT]
