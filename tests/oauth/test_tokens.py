"""Token rotation: an expiring bot token is refreshed by whoever needs it first (a background
job with no incoming request, or Bolt's authorize for a request), one new token across
replicas."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from bot.app.runtime import Runtime
from bot.ops.config import Settings
from bot.ops.secrets import generate_key
from bot.slack.workspaces import client_for_team
from storage.database import Database
from tests.oauth.conftest import ALPHA, BETA, CHANNEL, install, start
from tests.support.fake_slack import FakeSlack
from tests.support.slack_fixtures import BotServer


async def expire(runtime: Runtime, team_id: str) -> None:
    """Make the stored bot token of ``team_id`` expired an hour ago."""
    async with runtime.db.engine.begin() as conn:
        for table in ("slack_installations", "slack_bots"):
            await conn.execute(
                text(f"UPDATE {table} SET bot_token_expires_at = :at WHERE team_id = :team"),
                {"at": _naive_utc(time.time() - 3600), "team": team_id},
            )


def _naive_utc(ts: float) -> datetime:
    """slack-sdk's tables keep naive UTC datetimes."""
    return datetime.fromtimestamp(ts, UTC).replace(tzinfo=None)


def refreshes(fake: FakeSlack) -> list[object]:
    return [
        c for c in fake.calls_to("oauth.v2.access") if c.params.get("grant_type") == "refresh_token"
    ]


async def test_a_job_refreshes_an_expired_token_with_no_request(
    oauth_bot: BotServer, fake_slack: FakeSlack
) -> None:
    runtime = oauth_bot.runtime
    await install(oauth_bot, fake_slack, ALPHA, rotating=True)
    await install(oauth_bot, fake_slack, BETA, rotating=True)
    (old,) = fake_slack.oauth.tokens_of(ALPHA)
    (beta_token,) = fake_slack.oauth.tokens_of(BETA)

    fresh = await client_for_team(runtime, ALPHA)  # not expiring yet: no refresh
    assert fresh is not None and fresh.token == old and refreshes(fake_slack) == []

    await expire(runtime, ALPHA)
    client = await client_for_team(runtime, ALPHA)

    assert client is not None and client.token not in (None, old)
    assert len(refreshes(fake_slack)) == 1
    installs = runtime.installations
    assert installs is not None
    stored = await installs.store.find_latest(team_id=ALPHA)
    assert stored is not None and stored.bot_token == client.token
    assert stored.bot_token_expires_at is not None and stored.bot_token_expires_at > time.time()
    other = await client_for_team(runtime, BETA)  # the other workspace is untouched
    assert other is not None and other.token == beta_token

    response = await client.chat_postMessage(channel=CHANNEL, text="still here")
    assert response["ok"] and fake_slack.calls_to("chat.postMessage")[-1].token == client.token


async def test_two_replicas_refreshing_at_once_store_one_valid_token(
    oauth_bot: BotServer, fake_slack: FakeSlack, oauth_settings: Settings
) -> None:
    await install(oauth_bot, fake_slack, ALPHA, rotating=True)
    await expire(oauth_bot.runtime, ALPHA)
    # A second replica: its own engine and stores on the same database.
    other = Runtime(settings=oauth_settings, database=Database(oauth_settings.database_url))
    fake_slack.oauth.delay = 0.3  # both are inside the refresh window at once
    try:
        first, second = await asyncio.gather(
            client_for_team(oauth_bot.runtime, ALPHA), client_for_team(other, ALPHA)
        )
    finally:
        await other.db.dispose()

    assert first is not None and second is not None
    assert first.token == second.token  # the second replica used the first one's token
    # No lock is held while Slack is asked, so both may ask: Slack's refresh tokens are single
    # use, the second is refused and that replica reads the token the first one stored.
    assert [c.answer.get("error") for c in refreshes(fake_slack)] in (
        [None],
        [None, "invalid_refresh_token"],
    )
    (valid,) = fake_slack.oauth.tokens_of(ALPHA)[1:]
    installs = oauth_bot.runtime.installations
    assert installs is not None
    stored = await installs.store.find_latest(team_id=ALPHA)
    assert stored is not None and stored.bot_token == valid == first.token


async def test_a_request_with_an_expired_token_is_served_after_one_refresh(
    oauth_bot: BotServer, fake_slack: FakeSlack
) -> None:
    await install(oauth_bot, fake_slack, ALPHA, rotating=True)
    await start(oauth_bot, ALPHA, "Alpha Corp", "alpha.example")
    (old,) = fake_slack.oauth.tokens_of(ALPHA)
    await expire(oauth_bot.runtime, ALPHA)

    response = await oauth_bot.slack.command("/transition", "status", team_id=ALPHA)

    assert response.status == 200
    post = await fake_slack.wait_for("chat.postMessage", lambda c: "Alpha Corp" in c.text)
    assert post.token != old and post.token in fake_slack.oauth.tokens_of(ALPHA)
    assert len(refreshes(fake_slack)) == 1
    client = await client_for_team(oauth_bot.runtime, ALPHA)  # the job sees the saved one
    assert client is not None and client.token == post.token and len(refreshes(fake_slack)) == 1


async def test_a_refused_refresh_gives_no_client(
    oauth_bot: BotServer, fake_slack: FakeSlack
) -> None:
    await install(oauth_bot, fake_slack, ALPHA, rotating=True)
    await expire(oauth_bot.runtime, ALPHA)
    fake_slack.oauth.refresh_tokens.clear()  # e.g. revoked meanwhile

    assert await client_for_team(oauth_bot.runtime, ALPHA) is None
    assert [c.answer.get("error") for c in refreshes(fake_slack)] == ["invalid_refresh_token"]


async def test_a_changed_secret_key_gives_no_client_and_says_why(
    oauth_bot: BotServer,
    fake_slack: FakeSlack,
    oauth_settings: Settings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await install(oauth_bot, fake_slack, ALPHA)
    rekeyed = dataclasses.replace(oauth_settings, secret_key=generate_key())
    other = Runtime(settings=rekeyed, database=Database(rekeyed.database_url))
    try:
        with caplog.at_level(logging.ERROR):
            assert await client_for_team(other, ALPHA) is None
    finally:
        await other.db.dispose()
    assert "TRANSITION_SECRET_KEY" in caplog.text
    assert await client_for_team(oauth_bot.runtime, ALPHA) is not None  # the right key works
