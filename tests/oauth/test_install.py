"""OAuth install end to end: the "Add to Slack" redirect against the fake's oauth.v2.access,
installations stored sealed in our tables, and each workspace served with its own token and
seeing only its own tenants."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlparse

import yaml
from sqlalchemy import text

from bot.slack.install import BOT_SCOPES
from tests.oauth.conftest import (
    ALPHA,
    BETA,
    CHANNEL,
    begin_install,
    finish_install,
    install,
    start,
)
from tests.support.fake_slack import FakeSlack
from tests.support.fake_slack_oauth import CLIENT_ID
from tests.support.slack_fixtures import BotServer

MANIFEST = Path(__file__).resolve().parents[2] / "manifest.yml"


async def test_install_redirects_to_slack_with_manifest_scopes_and_a_state_cookie(
    oauth_bot: BotServer,
) -> None:
    location, state, cookie = await begin_install(oauth_bot)
    url = urlparse(location)
    query = parse_qs(url.query)
    assert (url.netloc, url.path) == ("slack.com", "/oauth/v2/authorize")
    assert query["client_id"] == [CLIENT_ID]
    manifest = yaml.safe_load(MANIFEST.read_text())
    assert set(query["scope"][0].split(",")) == set(manifest["oauth_config"]["scopes"]["bot"])
    assert set(BOT_SCOPES) == set(manifest["oauth_config"]["scopes"]["bot"])
    morsel = cookie["slack-app-oauth-state"]
    assert morsel.value == state
    assert morsel["httponly"] and morsel["secure"]


async def test_two_workspaces_install_and_each_gets_its_own_token(
    oauth_bot: BotServer, fake_slack: FakeSlack
) -> None:
    await install(oauth_bot, fake_slack, ALPHA)
    await install(oauth_bot, fake_slack, BETA)

    exchanges = fake_slack.calls_to("oauth.v2.access")
    assert [c.params["code"] for c in exchanges] == [f"code-{ALPHA}", f"code-{BETA}"]
    alpha_token, beta_token = fake_slack.oauth.tokens_of(ALPHA), fake_slack.oauth.tokens_of(BETA)
    assert len(alpha_token) == len(beta_token) == 1 and alpha_token != beta_token

    async with oauth_bot.runtime.db.engine.connect() as conn:
        rows = (
            await conn.execute(
                text("SELECT team_id, bot_token FROM slack_installations ORDER BY team_id")
            )
        ).all()
    assert [r[0] for r in rows] == [ALPHA, BETA]
    for _, stored in rows:  # sealed at rest: no token in the database in clear
        assert stored.startswith("gAAAAA") and "xoxb" not in stored

    alpha = await start(oauth_bot, ALPHA, "Alpha Corp", "alpha.example")
    beta = await start(oauth_bot, BETA, "Beta GmbH", "beta.example")
    assert alpha.tenant.id != beta.tenant.id

    for team, name, other, token in (
        (ALPHA, "Alpha Corp", "Beta GmbH", alpha_token[0]),
        (BETA, "Beta GmbH", "Alpha Corp", beta_token[0]),
    ):
        response = await oauth_bot.slack.command("/transition", "status", team_id=team)
        assert response.status == 200
        post = await fake_slack.wait_for(
            "chat.postMessage", lambda c, t=token: c.token == t and c.params["channel"] == CHANNEL
        )
        assert name in post.text and other not in post.text


async def test_a_workspace_without_installation_is_told_and_nothing_runs(
    oauth_bot: BotServer, fake_slack: FakeSlack
) -> None:
    await install(oauth_bot, fake_slack, ALPHA)
    await start(oauth_bot, ALPHA, "Alpha Corp", "alpha.example")

    response = await oauth_bot.slack.command("/transition", "status", team_id="T0STRANGER")
    assert response.status == 200
    told = await fake_slack.wait_for("response_url")
    assert "not installed in this workspace" in told.text and "/slack/install" in told.text
    assert not [c for c in fake_slack.calls_to("chat.postMessage") if "Alpha" in c.text]


async def test_forged_or_replayed_state_is_refused(
    oauth_bot: BotServer, fake_slack: FakeSlack
) -> None:
    fake_slack.oauth.add_install("code-x", ALPHA)
    _, state, cookie = await begin_install(oauth_bot)

    raw, _, _ = state.rpartition(".")
    forged = f"{raw}.{'0' * 64}"
    cookie["slack-app-oauth-state"] = forged  # the browser check passes; the signature does not
    status, _ = await finish_install(oauth_bot, "code-x", forged, cookie)
    assert status == 401
    assert fake_slack.calls_to("oauth.v2.access") == []

    cookie["slack-app-oauth-state"] = state
    status, _ = await finish_install(oauth_bot, "code-x", state, cookie)
    assert status == 200
    status, _ = await finish_install(oauth_bot, "code-x", state, cookie)  # used once only
    assert status == 401
    assert len(fake_slack.calls_to("oauth.v2.access")) == 1


async def test_single_token_mode_has_no_install_routes(bot_server: object) -> None:
    import aiohttp

    server = await bot_server()  # type: ignore[operator]
    async with aiohttp.ClientSession() as http, http.get(server.base_url + "/slack/install") as r:
        assert r.status in (404, 405)


async def test_expired_states_are_dropped_when_new_installs_begin(oauth_bot: BotServer) -> None:
    await begin_install(oauth_bot)
    async with oauth_bot.runtime.db.engine.begin() as conn:
        await conn.execute(text("UPDATE slack_oauth_states SET expire_at = '2000-01-01 00:00:00'"))
    await begin_install(oauth_bot)
    async with oauth_bot.runtime.db.engine.connect() as conn:
        left = (await conn.execute(text("SELECT COUNT(*) FROM slack_oauth_states"))).scalar_one()
    assert left == 1
