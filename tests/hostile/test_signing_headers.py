"""Junk in the signing headers is refused at the edge: 401 when a request is not signed (or
its signature cannot match), 400 when its timestamp is not a number; never a 500 (Bolt's
verifier raises on a timestamp ``int()`` cannot read), and nothing reaches a listener."""

import time

import pytest

from bot.dnscheck.model import DnsConfig
from tests.support.fake_slack import FakeSlack
from tests.support.slack_fixtures import NO_DNS
from tests.support.slack_requests import SlackClient, sign


@pytest.fixture
def slack_dns_config() -> DnsConfig:
    return NO_DNS


def _now() -> str:
    return str(int(time.time()))


@pytest.mark.parametrize(
    ("timestamp", "signature", "status"),
    [
        (None, "valid", 401),  # missing timestamp
        ("", "valid", 400),
        ("abc", "valid", 400),  # a 500 before: ValueError in slack_sdk's verifier
        ("1.5e9", "valid", 400),
        ("9" * 5000, "valid", 400),  # beyond int()'s digit limit
        ("future", "valid", 401),  # years ahead: outside Bolt's 5-minute window
        ("now", None, 401),  # missing signature
        ("now", "", 401),
        ("now", "v0=00", 401),
        ("now", "v0=" + "é" * 64, 401),  # a TypeError in hmac.compare_digest otherwise
    ],
)
async def test_junk_signing_headers_get_a_4xx(
    slack: SlackClient,
    fake_slack: FakeSlack,
    timestamp: str | None,
    signature: str | None,
    status: int,
) -> None:
    body = slack.command_body("/transition", "help")
    now = _now()
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if timestamp is not None:
        sent = {"now": now, "future": str(int(now) + 10**8)}.get(timestamp, timestamp)
        headers["X-Slack-Request-Timestamp"] = sent
    if signature is not None:
        headers["X-Slack-Signature"] = (
            sign(slack.signing_secret, body, int(now)) if signature == "valid" else signature
        )
    response = await slack.post_raw(body, headers)
    assert response.status == status, response.text
    assert "Traceback" not in response.text
    assert not [c for c in fake_slack.calls if c.method == "response_url"]


async def test_the_same_request_correctly_signed_is_served(slack: SlackClient) -> None:
    body = slack.command_body("/transition", "help")
    now = _now()
    response = await slack.post_raw(
        body,
        {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": now,
            "X-Slack-Signature": sign(slack.signing_secret, body, int(now)),
        },
    )
    assert response.status == 200
    assert "/transition check" in response.shown_text
