"""Slack-level tests of tenants: the real endpoint, signed requests, the fake Web API, and the
database on SQLite and (with TEST_DATABASE_URL) PostgreSQL."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.dnscheck.model import DnsConfig
from bot.ops.config import Settings
from bot.services.common import Caller
from bot.services.steps import record_dns_check
from bot.services.tenants import tenant_status
from bot.services.views import TenantStatus
from storage.database import Database
from tests.support.fake_slack import DEFAULT_TEAM, ApiCall, FakeSlack
from tests.support.slack_fixtures import NO_DNS, settings_for
from tests.support.slack_requests import (
    DEFAULT_CHANNEL,
    DEFAULT_USER,
    SlackClient,
)
from tests.watch.audits import audit

OWNER = DEFAULT_USER  # U0ALICE starts the tenants
BOB, CAROL, DAVE, MALLORY = "U0BOB", "U0CAROL", "U0DAVE", "U0MALLORY"
OTHER_TEAM = "T0OTHER"
COMMAND = "/transition"


@pytest.fixture
def slack_dns_config() -> DnsConfig:
    return NO_DNS


@pytest.fixture
def bot_settings(fake_slack: FakeSlack, slack_dns_config: DnsConfig, database_url: str) -> Settings:
    return settings_for(fake_slack, slack_dns_config, database_url)


def text_value(value: str) -> dict[str, Any]:
    return {"value": {"type": "plain_text_input", "value": value}}


def start_values(
    *,
    name: str = "Contoso",
    domains: str = "contoso.com",
    onprem: bool = False,
    internal_dns: str = "",
    time_zone: str = "Europe/Berlin",
    approvers: tuple[str, ...] = (BOB, CAROL, DAVE),
    needed: str = "2",
    partner: str = "",
    source: str = "",
) -> dict[str, dict[str, Any]]:
    chosen = (
        {"source": {"value": {"type": "static_select", "selected_option": {"value": source}}}}
        if source
        else {}
    )
    return chosen | {
        "name": text_value(name),
        "domains": text_value(domains),
        "onprem": {
            "value": {
                "type": "radio_buttons",
                "selected_option": {"value": "yes" if onprem else "no"},
            }
        },
        "internal_dns": text_value(internal_dns),
        "time_zone": text_value(time_zone),
        "approvers": {"value": {"type": "multi_users_select", "selected_users": list(approvers)}},
        "approvals_needed": {"value": {"type": "number_input", "value": needed}},
        "partner_id": text_value(partner),
    }


async def start_tenant(
    slack: SlackClient,
    fake: FakeSlack,
    channel: str = DEFAULT_CHANNEL,
    team: str | None = None,
    **values: Any,
) -> None:
    """Type `/transition start`, then submit the modal; wait for the runbook post and for the
    outcome of the DNS check that follows it (the runbook edited with the `dns` evidence), so
    that check cannot change the `dns` step after the caller looked."""
    response = await slack.command(
        COMMAND,
        "start " + values.get("domains", "contoso.com"),
        channel_id=channel,
        **({"team_id": team} if team else {}),
    )
    assert response.status == 200
    await fake.wait_for(
        "views.open",
        lambda c: json.loads(c.params["view"]["private_metadata"])["channel"] == channel,
    )
    submitted = await slack.view_submission(
        "tenant.start",
        start_values(**values),
        private_metadata=json.dumps({"channel": channel}),
        **({"team_id": team} if team else {}),
    )
    assert submitted.status == 200 and submitted.text == ""
    post = await fake.wait_for(
        "chat.postMessage",
        lambda c: c.params.get("channel") == channel and "done" in str(c.params.get("text")),
    )
    await fake.wait_for(
        "chat.update",
        lambda c: (
            c.params.get("channel") == channel
            and c.params.get("ts") == post.answer.get("ts")
            and "Last check" in json.dumps(c.blocks)
        ),
        timeout=30.0,  # the audit's own timeouts come first; this only bounds a hang
    )


async def status_of(
    database_url: str, channel: str = DEFAULT_CHANNEL, team: str = DEFAULT_TEAM
) -> TenantStatus:
    db = Database(database_url)
    try:
        return await tenant_status(db.uow(), Caller(team, OWNER, channel))
    finally:
        await db.dispose()


async def dns_passes(
    database_url: str, channel: str = DEFAULT_CHANNEL, team: str = DEFAULT_TEAM
) -> None:
    """The bot's DNS check passes for every domain of the channel's tenant (as the post-start
    check or the watch would record it): the only way the `dns` step gets done."""
    db = Database(database_url)
    try:
        status = await tenant_status(db.uow(), Caller(team, OWNER, channel))
        audits = [audit(d.ascii) for d in status.tenant.domains]
        await record_dns_check(db.uow(), status.tenant.id, audits)
    finally:
        await db.dispose()


def runbook_message(fake: FakeSlack) -> dict[str, Any]:
    """The last runbook message posted (as a clicked ``message`` needs it: ts + channel)."""
    posts = [c for c in fake.calls_to("chat.postMessage") if "of" in str(c.params.get("text", ""))]
    assert posts, "no runbook posted"
    return {"ts": "1.000001", "channel": posts[-1].params["channel"]}


async def ephemeral(fake: FakeSlack, *needles: str) -> None:
    """Wait until each needle was said in an ephemeral reply (they come after the ack)."""
    for needle in needles:

        def said(call: ApiCall, needle: str = needle) -> bool:
            private = call.params.get("response_type", "ephemeral") == "ephemeral"
            return private and needle in str(call.params.get("text", ""))

        await fake.wait_for("response_url", said)
