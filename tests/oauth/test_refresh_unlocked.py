"""A token refresh holds no lock or transaction while it asks Slack (issue #14): a slow Slack
(the fake's oauth.v2.access held at a gate for as long as the test wants) neither keeps the
installation row from other sessions nor keeps a request from being answered."""

from __future__ import annotations

import asyncio
import time

from sqlalchemy import exc as sa_exc
from sqlalchemy import text

from bot.app.runtime import Runtime
from bot.slack.workspaces import client_for_team
from storage.database import is_sqlite, make_engine
from tests.oauth.conftest import ALPHA, install, start
from tests.oauth.test_tokens import _naive_utc, expire, refreshes
from tests.support.fake_slack import FakeSlack
from tests.support.slack_fixtures import BotServer
from tests.support.waiting import eventually


async def written_at_once(url: str, team_id: str) -> bool:
    """Whether another session can write the workspace's installation row without waiting."""
    sqlite = is_sqlite(url)
    engine = make_engine(url, connect_args={"timeout": 0}) if sqlite else make_engine(url)
    try:
        async with engine.begin() as conn:
            if not sqlite:
                await conn.execute(text("SET LOCAL lock_timeout = '100ms'"))
            await conn.execute(
                text("UPDATE slack_installations SET team_name = team_name WHERE team_id = :t"),
                {"t": team_id},
            )
        return True
    except sa_exc.SQLAlchemyError:
        return False
    finally:
        await engine.dispose()


async def stored_token(runtime: Runtime, team_id: str) -> str | None:
    installs = runtime.installations
    assert installs is not None
    stored = await installs.store.find_latest(team_id=team_id)
    return None if stored is None else stored.bot_token


async def expiring_in(runtime: Runtime, team_id: str, seconds: float) -> None:
    async with runtime.db.engine.begin() as conn:
        for table in ("slack_installations", "slack_bots"):
            await conn.execute(
                text(f"UPDATE {table} SET bot_token_expires_at = :at WHERE team_id = :team"),
                {"at": _naive_utc(time.time() + seconds), "team": team_id},
            )


async def alpha_with_a_held_refresh(
    oauth_bot: BotServer, fake_slack: FakeSlack, good_for: float | None
) -> tuple[str, asyncio.Event]:
    """Alpha installed with a rotating token and a tenant; the token expired (``good_for``
    None) or good for ``good_for`` seconds more; Slack holds its refresh until the event is
    set. Returns the old token and that event."""
    await install(oauth_bot, fake_slack, ALPHA, rotating=True)
    await start(oauth_bot, ALPHA, "Alpha Corp", "alpha.example")
    (old,) = fake_slack.oauth.tokens_of(ALPHA)
    if good_for is None:
        await expire(oauth_bot.runtime, ALPHA)
    else:
        await expiring_in(oauth_bot.runtime, ALPHA, good_for)
    fake_slack.oauth.gate = gate = asyncio.Event()
    return old, gate


async def test_the_row_is_free_while_slack_is_asked(
    oauth_bot: BotServer, fake_slack: FakeSlack
) -> None:
    runtime = oauth_bot.runtime
    await install(oauth_bot, fake_slack, ALPHA, rotating=True)
    (old,) = fake_slack.oauth.tokens_of(ALPHA)
    await expire(runtime, ALPHA)
    fake_slack.oauth.gate = gate = asyncio.Event()

    job = asyncio.create_task(client_for_team(runtime, ALPHA))
    await eventually(lambda: fake_slack.oauth.waiting == 1, "the refresh to ask Slack")
    free = await written_at_once(runtime.settings.database_url, ALPHA)
    gate.set()
    client = await job

    assert free, "the installation row was held while Slack was asked"
    assert client is not None and client.token != old
    assert await stored_token(runtime, ALPHA) == client.token


async def test_a_request_with_a_good_token_does_not_wait_for_its_refresh(
    oauth_bot: BotServer, fake_slack: FakeSlack
) -> None:
    runtime = oauth_bot.runtime
    # due for its refresh, good for half an hour
    old, gate = await alpha_with_a_held_refresh(oauth_bot, fake_slack, 30 * 60)

    response = await oauth_bot.slack.command("/transition", "status", team_id=ALPHA)
    post = await fake_slack.wait_for("chat.postMessage", lambda c: "Alpha Corp" in c.text)
    assert response.status == 200 and post.token == old  # served while Slack still holds it
    assert fake_slack.oauth.waiting == 1
    gate.set()

    async def refreshed() -> bool:
        return await stored_token(runtime, ALPHA) not in (None, old)

    await eventually(refreshed, "the refresh to be stored")
    assert len(refreshes(fake_slack)) == 1


async def test_a_request_with_an_expired_token_is_answered_while_slack_is_slow(
    oauth_bot: BotServer, fake_slack: FakeSlack
) -> None:
    runtime = oauth_bot.runtime
    old, gate = await alpha_with_a_held_refresh(oauth_bot, fake_slack, None)

    started = time.monotonic()
    command = asyncio.create_task(oauth_bot.slack.command("/transition", "status", team_id=ALPHA))
    await eventually(command.done, "the command to be answered while Slack holds the refresh")
    print(f"\nanswered in {time.monotonic() - started:.2f} s, Slack still refreshing")
    assert (await command).status == 200
    told = await fake_slack.wait_for("response_url")
    assert "renew its access" in told.text
    gate.set()

    async def refreshed() -> bool:
        return await stored_token(runtime, ALPHA) not in (None, old)

    await eventually(refreshed, "the refresh to be stored")
    response = await oauth_bot.slack.command("/transition", "status", team_id=ALPHA)
    post = await fake_slack.wait_for("chat.postMessage", lambda c: "Alpha Corp" in c.text)
    assert response.status == 200 and post.token == await stored_token(runtime, ALPHA)
    assert len(refreshes(fake_slack)) == 1
