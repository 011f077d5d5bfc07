"""Slack's Web API goes away: for a stretch every call gets a 503 whose body is JSON, HTML or
plain text (Slack's edge and proxies answer so). The sender neither crashes on the body nor
gives a row up; it backs off (per row and as a whole) and logs Slack's going and its coming
back once each; when Slack is back every due announcement is posted exactly once.

Real database (SQLite and PostgreSQL), the fake Web API with its history (the sender looks a
row up there after a 503, which Slack may have answered after posting). The sender's clock is
a variable the test moves past each backoff: "later" is chosen, not waited for.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app.runtime import build_web_client
from bot.ops.config import load_settings
from bot.watch.sender import SLACK_AWAY_MAX_BACKOFF, OutboxSender, SenderOptions
from storage.models import OutboxMessage, OutboxStatus
from storage.uow import UnitOfWork
from tests.support.fake_slack import FakeSlack, Outage
from tests.support.outbox_rows import outbox_row
from tests.watch.tenants import channel_for, domain_names, start_tenants

BODIES = [
    Outage(503, "application/json", '{"ok": false, "error": "service_unavailable"}'),
    Outage(503, "text/html", "<html><body><h1>503 Service Unavailable</h1></body></html>"),
    Outage(503, "text/plain", "upstream connect error or disconnect/reset before headers"),
]


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def after_any_backoff(self) -> None:
        self.now += timedelta(seconds=SLACK_AWAY_MAX_BACKOFF + 1)


async def queue(uow_factory: Callable[[], UnitOfWork], channels: int, each: int) -> list[str]:
    """``each`` announcements due now in each of ``channels`` tenants' channels; their keys."""
    domains = domain_names(channels, "outage")
    tenants = await start_tenants(uow_factory, domains)
    now = datetime.now(UTC)
    keys: list[str] = []
    async with uow_factory() as uow:
        for domain in domains:
            for n in range(each):
                key = f"outage:{domain}:{n}"
                keys.append(key)
                row = outbox_row(key, tenants[domain], channel_for(domain), f"{domain} {n}", now)
                await uow.outbox.add_rows([row])
        await uow.commit()
    return keys


@dataclass(frozen=True)
class Row:
    status: str
    leased_by: str | None
    next_attempt_at: datetime


async def rows(sessionmaker: async_sessionmaker[AsyncSession]) -> list[Row]:
    async with UnitOfWork(sessionmaker) as uow:
        found = (await uow.session.scalars(select(OutboxMessage))).all()
        return [Row(r.status, r.leased_by, r.next_attempt_at.replace(tzinfo=UTC)) for r in found]


@pytest.fixture
async def fake() -> FakeSlack:
    fake = FakeSlack()
    await fake.start()
    yield fake  # type: ignore[misc]
    await fake.close()


async def test_every_due_announcement_goes_out_once_after_a_slack_outage(
    sessionmaker: async_sessionmaker[AsyncSession],
    uow_factory: Callable[[], UnitOfWork],
    fake: FakeSlack,
    caplog: pytest.LogCaptureFixture,
) -> None:
    keys = await queue(uow_factory, channels=3, each=2)
    clock = Clock()
    settings = load_settings(
        {"SLACK_BOT_TOKEN": fake.token, "SLACK_API_URL": fake.api_url}, dotenv=False
    )
    sender = OutboxSender(
        sessionmaker,
        build_web_client(settings),
        # one attempt before a refused row is given up: Slack being away is not a refusal
        SenderOptions("r1", channel_gap=0.0, max_attempts=1),
        clock=clock,
    )
    caplog.set_level(logging.WARNING, logger="bot.watch.sender")  # what an operator sees

    for outage in BODIES:
        fake.outage = outage
        clock.after_any_backoff()
        assert await sender.run_once() == 0  # no exception, whatever the body
        assert sender.slack.paused(clock())
        assert await sender.run_once() == 0  # paused: not even a claim
        waiting = await rows(sessionmaker)
        assert {r.status for r in waiting} == {OutboxStatus.PENDING}  # none given up
        assert all(r.leased_by is None for r in waiting)
    assert not fake.delivered()
    assert {c.status for c in fake.calls} == {503}

    fake.outage = None
    clock.after_any_backoff()
    sent = 0
    for _ in range(len(keys)):  # one run per row at most (rows of a channel may be spaced)
        sent += await sender.run_once()
        if sent == len(keys):
            break
    assert sent == len(keys)

    posted = Counter(c.params["metadata"]["event_payload"]["key"] for c in fake.delivered())
    assert posted == Counter(keys)  # each exactly once
    assert {r.status for r in await rows(sessionmaker)} == {OutboxStatus.SENT}
    lines = [r.getMessage() for r in caplog.records]
    assert len([line for line in lines if "Slack Web API unreachable" in line]) == 1, lines
    assert len([line for line in lines if "Slack Web API back" in line]) == 1, lines
    assert not [r for r in caplog.records if r.exc_info], "no traceback while Slack is away"
