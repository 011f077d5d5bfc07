"""The background jobs post to each workspace with that workspace's own token, refresh an
expired token themselves (no incoming request), and stop for an uninstalled workspace."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.jobs.background import SCHEDULER
from bot.jobs.reminders import run_reminders
from bot.jobs.watch import build_watch
from bot.services.common import Caller
from bot.services.reminders import set_reminder
from bot.services.views import TenantStatus
from storage.models import OutboxStatus
from tests.oauth.conftest import ALPHA, BETA, CHANNEL, OWNER, install, start
from tests.oauth.test_tokens import expire, refreshes
from tests.oauth.test_uninstall import _until, installed_rows
from tests.support.fake_slack import FakeSlack
from tests.support.outbox_rows import outbox_row
from tests.support.slack_fixtures import BotServer

MONDAY = datetime(2026, 6, 1, 6, 0, tzinfo=UTC)
DUE = MONDAY + timedelta(hours=3, minutes=1)  # 09:01 UTC: the reminders are due


async def two_workspaces(
    server: BotServer, fake: FakeSlack, *, rotating: bool = False
) -> tuple[TenantStatus, TenantStatus]:
    # the test drives the jobs: no real-time ticks, and the start-up runs are over
    await server.app[SCHEDULER].pause_and_drain()
    await install(server, fake, ALPHA, rotating=rotating)
    await install(server, fake, BETA, rotating=rotating)
    alpha = await start(server, ALPHA, "Alpha Corp", "alpha.example")
    beta = await start(server, BETA, "Beta GmbH", "beta.example")
    for team in (ALPHA, BETA):
        caller = Caller(team_id=team, user_id=OWNER, channel_id=CHANNEL)
        await set_reminder(server.runtime.db.uow(), caller, "daily 09:00", now=MONDAY)
    return alpha, beta


async def announce(server: BotServer, tenant: TenantStatus, key: str) -> None:
    """An announcement in the outbox, as the poller writes it."""
    now = datetime.now(UTC)
    async with server.runtime.db.uow() as uow:
        text = f"news for {tenant.tenant.name}"
        await uow.outbox.add_rows(
            [outbox_row(key, tenant.tenant.id, CHANNEL, text, now, kind="test")]
        )
        await uow.commit()


def posts(fake: FakeSlack, name: str) -> list[str | None]:
    return [c.token for c in fake.calls_to("chat.postMessage") if name in c.text]


async def test_reminders_and_announcements_use_each_workspaces_token(
    oauth_bot: BotServer, fake_slack: FakeSlack
) -> None:
    alpha, beta = await two_workspaces(oauth_bot, fake_slack)
    (alpha_token,) = fake_slack.oauth.tokens_of(ALPHA)
    (beta_token,) = fake_slack.oauth.tokens_of(BETA)

    assert await run_reminders(oauth_bot.runtime, now=DUE) == 2
    assert posts(fake_slack, "Alpha Corp") == [alpha_token]
    assert posts(fake_slack, "Beta GmbH") == [beta_token]

    await announce(oauth_bot, alpha, "a-1")
    await announce(oauth_bot, beta, "b-1")
    assert await build_watch(oauth_bot.runtime, "replica-1").sender.run_once() == 2
    assert posts(fake_slack, "news for Alpha Corp") == [alpha_token]
    assert posts(fake_slack, "news for Beta GmbH") == [beta_token]


async def test_a_job_refreshes_an_expired_token_and_posts_with_the_new_one(
    oauth_bot: BotServer, fake_slack: FakeSlack
) -> None:
    await two_workspaces(oauth_bot, fake_slack, rotating=True)
    (old,) = fake_slack.oauth.tokens_of(ALPHA)
    await expire(oauth_bot.runtime, ALPHA)

    assert await run_reminders(oauth_bot.runtime, now=DUE) == 2

    assert len(refreshes(fake_slack)) == 1
    (token,) = posts(fake_slack, "Alpha Corp")
    assert token != old and token == fake_slack.oauth.tokens_of(ALPHA)[-1]
    assert posts(fake_slack, "Beta GmbH") == fake_slack.oauth.tokens_of(BETA)


async def test_uninstalled_workspace_gets_no_reminders_or_announcements(
    oauth_bot: BotServer, fake_slack: FakeSlack
) -> None:
    alpha, beta = await two_workspaces(oauth_bot, fake_slack)
    fake_slack.oauth.revoke_team(ALPHA)
    await oauth_bot.slack.event({"type": "app_uninstalled"}, team_id=ALPHA)
    await _until(lambda: installed_rows(oauth_bot.runtime, ALPHA), 0)

    assert await run_reminders(oauth_bot.runtime, now=DUE) == 1
    watch = build_watch(oauth_bot.runtime, "replica-1")
    assert await watch.poller.claim() == [beta.tenant.id]  # no DNS polls for Alpha either
    await announce(oauth_bot, alpha, "a-1")
    await announce(oauth_bot, beta, "b-1")
    assert await watch.sender.run_once() == 1

    assert posts(fake_slack, "Alpha Corp") == []  # not even tried with a dead token
    assert posts(fake_slack, "Beta GmbH") == fake_slack.oauth.tokens_of(BETA) * 2
    async with oauth_bot.runtime.db.uow() as uow:
        rows = await uow.outbox.for_tenant(alpha.tenant.id)
        kept = [(r.status, r.attempts) for r in rows]
    assert kept == [(OutboxStatus.PENDING, 0)]  # kept for a reinstall, never attempted
