"""`/transition check` in a tenant's channel audits with the source its people picked; the
report says where mail goes now (BIND on loopback)."""

from __future__ import annotations

import json

import pytest

from bot.dnscheck.model import DnsConfig
from tests.slack_tenants.conftest import COMMAND, start_tenant
from tests.support.fake_slack import FakeSlack
from tests.support.slack_requests import SlackClient


@pytest.fixture
def slack_dns_config(request: pytest.FixtureRequest) -> DnsConfig:
    config: DnsConfig = request.getfixturevalue("bind").dns_config(timeout=3.0)
    return config


async def report_of(slack: SlackClient, fake: FakeSlack, domain: str) -> str:
    before = len(fake.calls_to("chat.postMessage"))
    await slack.command(COMMAND, f"check {domain}")
    post = await fake.wait_for(
        "chat.postMessage",
        lambda c: (
            fake.calls_to("chat.postMessage").index(c) >= before
            and f"DNS check: {domain}" in json.dumps(c.blocks)
        ),
    )
    return json.dumps(post.blocks, ensure_ascii=False)


async def test_check_in_the_tenants_channel_uses_its_source(
    slack: SlackClient, fake_slack: FakeSlack
) -> None:
    plain = await report_of(slack, fake_slack, "google.test")  # no tenant here yet: detected
    assert "Mail now goes to Google Workspace" in plain and "source set to" not in plain
    await start_tenant(slack, fake_slack, domains="google.test", source="zoho")
    chosen = await report_of(slack, fake_slack, "google.test")
    assert "Mail now goes to Google Workspace (source set to Zoho Mail)" in chosen
