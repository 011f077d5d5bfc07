"""OAuth-mode fixtures: the bot with client id/secret (no bot token) on the test database,
and ``install`` driving the real "Add to Slack" redirect against the fake's oauth.v2.access.

Every test here runs on SQLite and, with TEST_DATABASE_URL, on PostgreSQL (``database_url``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from http.cookies import SimpleCookie
from urllib.parse import parse_qs, urlencode, urlparse

import aiohttp
import pytest

from bot.core.tenant_form import TenantForm, validate
from bot.ops.config import Settings
from bot.ops.secrets import generate_key
from bot.services.common import Caller
from bot.services.tenants import start_tenant
from bot.services.views import TenantStatus
from tests.support.fake_slack import FakeSlack
from tests.support.fake_slack_oauth import CLIENT_ID, CLIENT_SECRET
from tests.support.slack_fixtures import BotServer, StartServer

STATE_SECRET = "test-state-secret-9876543210"
SECRET_KEY = generate_key()
ALPHA, BETA = "T0ALPHA", "T0BETA"
CHANNEL = "C0CUTOVER"  # both workspaces use the same channel id: scoping must still hold
OWNER = "U0OWNER"

Install = Callable[..., Awaitable[aiohttp.ClientResponse]]


@pytest.fixture
def oauth_settings(bot_settings: Settings, database_url: str) -> Settings:
    return dataclasses.replace(
        bot_settings,
        slack_bot_token=None,
        slack_client_id=CLIENT_ID,
        slack_client_secret=CLIENT_SECRET,
        slack_state_secret=STATE_SECRET,
        secret_key=SECRET_KEY,
        database_url=database_url,
    )


@pytest.fixture
async def oauth_bot(oauth_settings: Settings, bot_server: StartServer) -> BotServer:
    # oauth_settings (and so database_url) first: pytest tears down in reverse order, so the
    # server stops, releasing its leases, before its PostgreSQL database is dropped.
    return await bot_server(oauth_settings)


async def begin_install(server: BotServer) -> tuple[str, str, SimpleCookie]:
    return await begin_install_at(server.base_url)


async def begin_install_at(base_url: str) -> tuple[str, str, SimpleCookie]:
    """``GET /slack/install`` as a browser: the consent URL, its state and the state cookie."""
    async with (
        aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http,
        http.get(base_url + "/slack/install", allow_redirects=False) as response,
    ):
        assert response.status == 302, await response.text()
        location = response.headers["Location"]
        cookie: SimpleCookie = SimpleCookie()
        for header in response.headers.getall("Set-Cookie"):
            cookie.load(header)
    state = parse_qs(urlparse(location).query)["state"][0]
    return location, state, cookie


async def finish_install(
    server: BotServer, code: str, state: str, cookie: SimpleCookie
) -> tuple[int, str]:
    return await finish_install_at(server.base_url, code, state, cookie)


async def finish_install_at(
    base_url: str, code: str, state: str, cookie: SimpleCookie
) -> tuple[int, str]:
    """Slack sends the browser back to ``/slack/oauth_redirect?code=…&state=…``."""
    query = urlencode({"code": code, "state": state})
    header = "; ".join(f"{name}={morsel.value}" for name, morsel in cookie.items())
    async with (
        aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http,
        http.get(
            f"{base_url}/slack/oauth_redirect?{query}",
            headers={"Cookie": header},
            allow_redirects=False,
        ) as response,
    ):
        return response.status, await response.text()


async def install(
    server: BotServer, fake: FakeSlack, team_id: str, *, rotating: bool = False
) -> None:
    """Install the app into ``team_id`` through the real redirect."""
    code = f"code-{team_id}"
    fake.oauth.add_install(code, team_id, rotating=rotating)
    _, state, cookie = await begin_install(server)
    status, body = await finish_install(server, code, state, cookie)
    assert status == 200, body


async def start(server: BotServer, team_id: str, name: str, domain: str) -> TenantStatus:
    """A tenant in ``CHANNEL`` of ``team_id`` (H3's service, as `/transition start` does)."""
    caller = Caller(team_id=team_id, user_id=OWNER, channel_id=CHANNEL)
    form = validate(TenantForm(name=name, domains=domain, approvers=(OWNER,)))
    return await start_tenant(server.runtime.db.uow(), caller, form)
