"""The HTTP endpoint itself: health, signature checks, unhandled requests."""

from __future__ import annotations

import time

import aiohttp
import pytest

from bot.dnscheck.model import DnsConfig
from tests.support.fake_slack import FakeSlack
from tests.support.slack_fixtures import NO_DNS, StartServer
from tests.support.slack_requests import SlackClient, sign


@pytest.fixture
def slack_dns_config() -> DnsConfig:
    # Nothing here reaches an audit; a closed port makes sure none could succeed by accident.
    return NO_DNS


async def test_healthz_answers_200(bot_server: StartServer) -> None:
    server = await bot_server()
    async with aiohttp.ClientSession() as session, session.get(server.base_url + "/healthz") as r:
        assert r.status == 200
        assert (await r.json()) == {"ok": True}


async def test_metrics_are_served(bot_server: StartServer) -> None:
    server = await bot_server()
    await server.slack.command("/transition", "help")
    async with aiohttp.ClientSession() as session, session.get(server.base_url + "/metrics") as r:
        assert r.status == 200
        assert "transition_slack_requests_total" in await r.text()


async def test_bad_signature_is_refused_and_nothing_happens(
    slack: SlackClient, fake_slack: FakeSlack
) -> None:
    body = slack.command_body("/transition", "check contoso.com")
    wrong = sign("not-the-signing-secret", body, int(time.time()))
    response = await slack.post(body, "application/x-www-form-urlencoded", signature=wrong)
    assert response.status == 401
    assert fake_slack.calls == []


async def test_stale_signature_is_refused_and_nothing_happens(
    slack: SlackClient, fake_slack: FakeSlack
) -> None:
    stale = int(time.time()) - 10 * 60  # Bolt accepts five minutes of clock skew
    response = await slack.command("/transition", "check contoso.com", timestamp=stale)
    assert response.status == 401
    assert fake_slack.calls == []


async def test_missing_signature_headers_are_refused(
    bot_server: StartServer, fake_slack: FakeSlack
) -> None:
    server = await bot_server()
    async with (
        aiohttp.ClientSession() as session,
        session.post(server.url, data="command=%2Ftransition&text=help") as r,
    ):
        assert r.status == 401
    assert fake_slack.calls == []


async def test_correctly_signed_request_is_accepted(slack: SlackClient) -> None:
    response = await slack.command("/transition", "help")
    assert response.status == 200
