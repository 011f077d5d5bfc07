"""A refreshed token is stored once, by our locked rotator: Bolt's authorize saves the
refreshed installation again afterwards (``_rotate_and_save_tokens_if_necessary``), outside
the row lock; that save must neither add rows nor put back a token a later refresh replaced."""

from __future__ import annotations

from sqlalchemy import text

from bot.app.runtime import Runtime
from bot.slack.workspaces import client_for_team
from tests.oauth.conftest import ALPHA, install, start
from tests.oauth.test_tokens import expire, refreshes
from tests.support.fake_slack import FakeSlack
from tests.support.slack_fixtures import BotServer


async def rows(runtime: Runtime, team_id: str) -> dict[str, int]:
    counts = {}
    async with runtime.db.engine.connect() as conn:
        for table in ("slack_installations", "slack_bots"):
            result = await conn.execute(
                text(f"SELECT count(*) FROM {table} WHERE team_id = :team"), {"team": team_id}
            )
            counts[table] = int(result.scalar_one())
    return counts


async def test_a_refresh_for_a_request_keeps_one_row_per_installation(
    oauth_bot: BotServer, fake_slack: FakeSlack
) -> None:
    await install(oauth_bot, fake_slack, ALPHA, rotating=True)
    await start(oauth_bot, ALPHA, "Alpha Corp", "alpha.example")
    installed = await rows(oauth_bot.runtime, ALPHA)
    assert installed == {"slack_installations": 1, "slack_bots": 1}
    await expire(oauth_bot.runtime, ALPHA)

    response = await oauth_bot.slack.command("/transition", "status", team_id=ALPHA)
    assert response.status == 200
    await fake_slack.wait_for("chat.postMessage", lambda c: "Alpha Corp" in c.text)
    assert len(refreshes(fake_slack)) == 1
    assert await rows(oauth_bot.runtime, ALPHA) == installed


async def test_a_late_second_save_does_not_bring_back_an_older_token(
    oauth_bot: BotServer, fake_slack: FakeSlack
) -> None:
    runtime = oauth_bot.runtime
    installs = runtime.installations
    assert installs is not None
    await install(oauth_bot, fake_slack, ALPHA, rotating=True)
    installed = await rows(runtime, ALPHA)
    await expire(runtime, ALPHA)
    assert await client_for_team(runtime, ALPHA) is not None  # refreshed: first token
    first = await installs.store.find_latest(team_id=ALPHA)
    await expire(runtime, ALPHA)
    newest = await client_for_team(runtime, ALPHA)  # refreshed again: a newer token
    assert first is not None and newest is not None and newest.token != first.bot_token

    await installs.store.async_save(first)  # Bolt's save of the first refresh, arriving late

    stored = await installs.store.find_latest(team_id=ALPHA)
    assert stored is not None and stored.bot_token == newest.token
    assert await rows(runtime, ALPHA) == installed
