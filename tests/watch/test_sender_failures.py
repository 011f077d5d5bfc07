"""The sender when Slack says no: a 429 that outlasts the client's own retries waits Slack's
``Retry-After`` (not the exponential backoff) and is delivered after it; a post that fails
for good counts in ``transition_announcements_total{outcome="failed"}``. Real database
(SQLite and PostgreSQL), the fake Slack Web API answering 429 / errors as told; the sender's
clock is fixed, so "later" is a chosen time, not a wait."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from prometheus_client import REGISTRY
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app.runtime import build_web_client
from bot.ops.config import load_settings
from bot.watch.sender import OutboxSender, SenderOptions
from storage.models import OutboxMessage, OutboxStatus
from storage.uow import UnitOfWork
from tests.support.fake_slack import FakeSlack
from tests.watch.test_sender_lease import queue

RETRY_AFTER = 1  # seconds; the client itself sleeps it twice before giving the 429 back


def sender(
    sessionmaker: async_sessionmaker[AsyncSession],
    fake: FakeSlack,
    at: datetime,
    max_attempts: int = 8,
) -> OutboxSender:
    settings = load_settings(
        {"SLACK_BOT_TOKEN": fake.token, "SLACK_API_URL": fake.api_url}, dotenv=False
    )
    options = SenderOptions("r1", channel_gap=0.0, max_attempts=max_attempts)
    return OutboxSender(sessionmaker, build_web_client(settings), options, clock=lambda: at)


@dataclass(frozen=True)
class Row:
    status: str
    attempts: int
    last_error: str | None
    next_attempt_at: datetime
    leased_by: str | None


async def the_row(sessionmaker: async_sessionmaker[AsyncSession]) -> Row:
    async with UnitOfWork(sessionmaker) as uow:
        row = (await uow.session.scalars(select(OutboxMessage))).one()
        when = row.next_attempt_at
        return Row(
            row.status,
            row.attempts,
            row.last_error,
            when if when.tzinfo else when.replace(tzinfo=UTC),
            row.leased_by,
        )


def announcements(outcome: str) -> float:
    value = REGISTRY.get_sample_value("transition_announcements_total", {"outcome": outcome})
    return value or 0.0


async def test_a_429_waits_retry_after_then_delivers(
    sessionmaker: async_sessionmaker[AsyncSession],
    uow_factory: Callable[[], UnitOfWork],
    fake_slack: FakeSlack,
) -> None:
    await queue(uow_factory, 1)
    at = datetime.now(UTC) + timedelta(seconds=1)
    # three 429s: the client's RateLimitErrorRetryHandler retries two, the third reaches us
    fake_slack.fail_next("chat.postMessage", status=429, retry_after=RETRY_AFTER, times=3)
    retried = announcements("retried")
    assert await sender(sessionmaker, fake_slack, at).run_once() == 0

    row = await the_row(sessionmaker)
    assert (row.status, row.attempts, row.last_error) == (OutboxStatus.PENDING, 1, "ratelimited")
    # Slack's Retry-After (1 s), not the backoff of a first failure (2 s)
    assert row.next_attempt_at == at + timedelta(seconds=RETRY_AFTER)
    assert row.leased_by is None
    assert announcements("retried") == retried + 1

    before = at + timedelta(seconds=RETRY_AFTER) - timedelta(milliseconds=1)
    assert await sender(sessionmaker, fake_slack, before).run_once() == 0  # not yet
    after = at + timedelta(seconds=RETRY_AFTER)
    assert await sender(sessionmaker, fake_slack, after).run_once() == 1
    assert (await the_row(sessionmaker)).status == OutboxStatus.SENT
    calls = fake_slack.calls_to("chat.postMessage")
    assert [c.answer.get("ok") for c in calls] == [False, False, False, True]


async def test_a_post_that_fails_for_good_counts_as_failed(
    sessionmaker: async_sessionmaker[AsyncSession],
    uow_factory: Callable[[], UnitOfWork],
    fake_slack: FakeSlack,
) -> None:
    await queue(uow_factory, 1)
    at = datetime.now(UTC) + timedelta(seconds=1)
    failed, sent = announcements("failed"), announcements("sent")
    fake_slack.fail_next("chat.postMessage", error="channel_not_found", times=2)

    first = sender(sessionmaker, fake_slack, at, max_attempts=2)
    assert await first.run_once() == 0
    assert announcements("failed") == failed  # one attempt failed: it is tried again
    later = sender(sessionmaker, fake_slack, at + timedelta(seconds=2), max_attempts=2)
    assert await later.run_once() == 0

    row = await the_row(sessionmaker)
    assert (row.status, row.attempts) == (OutboxStatus.FAILED, 2)
    assert announcements("failed") == failed + 1
    assert announcements("sent") == sent
