"""Events API deliveries on the same endpoint: App Home, retries, URL verification."""

from __future__ import annotations

import json

import pytest

from bot.dnscheck.model import DnsConfig
from tests.support.fake_slack import FakeSlack
from tests.support.slack_fixtures import NO_DNS
from tests.support.slack_requests import SlackClient


@pytest.fixture
def slack_dns_config() -> DnsConfig:
    return NO_DNS


async def test_app_home_opened_publishes_the_home_tab(
    slack: SlackClient, fake_slack: FakeSlack
) -> None:
    response = await slack.event({"type": "app_home_opened", "user": "U0BOB", "tab": "home"})
    assert response.status == 200
    call = await fake_slack.wait_for("views.publish")
    assert call.params["user_id"] == "U0BOB"
    assert call.params["view"]["type"] == "home"
    assert "/transition check contoso.com" in call.text


async def test_url_verification_echoes_the_challenge(slack: SlackClient) -> None:
    body = json.dumps({"type": "url_verification", "challenge": "abc123", "token": "t"})
    response = await slack.post(body, "application/json")
    assert response.status == 200
    assert response.json == {"challenge": "abc123"}


async def test_unsigned_event_is_refused(slack: SlackClient, fake_slack: FakeSlack) -> None:
    body = json.dumps({"type": "event_callback", "event": {"type": "app_home_opened"}})
    response = await slack.post(body, "application/json", signature="v0=00")
    assert response.status == 401
    assert fake_slack.calls == []
