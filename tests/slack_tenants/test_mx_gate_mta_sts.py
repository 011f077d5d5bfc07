"""The MTA-STS side of the MX gate through the real endpoint: `/transition request mx` runs a
fresh audit of the tenant's domains (BIND zones, the local MTA-STS host) and is refused while a
policy in enforce mode leaves Microsoft 365's MX out."""

from __future__ import annotations

import pytest

from bot.dnscheck.model import DnsConfig
from tests.slack_tenants.conftest import (
    BOB,
    CAROL,
    COMMAND,
    DAVE,
    OWNER,
    dns_passes,
    ephemeral,
    start_tenant,
)
from tests.support.bind import BindServer
from tests.support.fake_mta_sts import FakeMtaSts
from tests.support.fake_slack import FakeSlack
from tests.support.slack_requests import SlackClient


@pytest.fixture
def slack_dns_config(bind: BindServer, fake_mta_sts: FakeMtaSts) -> DnsConfig:
    return fake_mta_sts.config(bind.dns_config())


async def gate_open_but_for_dns(
    slack: SlackClient, fake: FakeSlack, database_url: str, domain: str
) -> None:
    """Data verified and the `dns` step done: only what the fresh audit says can refuse."""
    await start_tenant(slack, fake, domains=domain, approvers=(OWNER, BOB, CAROL, DAVE))
    response = await slack.command(COMMAND, "done verify-data")
    assert "done" in response.shown_text
    await dns_passes(database_url)


def approval_posts(fake: FakeSlack) -> list[object]:
    return [
        c
        for c in fake.calls_to("chat.postMessage")
        if str(c.params.get("text", "")).startswith("Approval for")
    ]


async def test_request_mx_is_refused_while_an_enforce_policy_leaves_microsoft_out(
    slack: SlackClient, fake_slack: FakeSlack, fake_mta_sts: FakeMtaSts, database_url: str
) -> None:
    await gate_open_but_for_dns(slack, fake_slack, database_url, "enforce.test")
    fetched = len(fake_mta_sts.requests)
    response = await slack.command(COMMAND, "request mx")
    assert response.status == 200 and response.text == ""  # acked first: the audit follows
    await ephemeral(
        fake_slack,
        "Not yet: MTA-STS",
        "the MTA-STS policy of enforce.test is in enforce mode",
        "change the id",
    )
    assert len(fake_mta_sts.requests) > fetched  # a fresh fetch, not an old verdict
    assert approval_posts(fake_slack) == []


async def test_request_mx_goes_ahead_when_the_policy_lists_microsoft(
    slack: SlackClient, fake_slack: FakeSlack, database_url: str
) -> None:
    await gate_open_but_for_dns(slack, fake_slack, database_url, "stsok.test")
    response = await slack.command(COMMAND, "request mx")
    assert response.status == 200 and response.text == ""
    await fake_slack.wait_for(
        "chat.postMessage", lambda c: str(c.params.get("text", "")).startswith("Approval for")
    )
    assert len(approval_posts(fake_slack)) == 1
