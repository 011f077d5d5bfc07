"""The `dns` step completes itself from a real audit (BIND on loopback), and Re-check reruns it."""

from __future__ import annotations

import json

import pytest

from bot.core.runbook import Status, StepId
from bot.dnscheck.model import DnsConfig
from tests.slack_tenants.conftest import (
    COMMAND,
    ephemeral,
    runbook_message,
    start_tenant,
    status_of,
)
from tests.support.fake_slack import FakeSlack
from tests.support.slack_requests import SlackClient


@pytest.fixture
def slack_dns_config(request: pytest.FixtureRequest) -> DnsConfig:
    config: DnsConfig = request.getfixturevalue("bind").dns_config()
    return config


def dns_line(blocks: list[dict[str, object]]) -> str:
    texts = (json.dumps(b, ensure_ascii=False) for b in blocks)
    return next(t for t in texts if "DNS records* —" in t)


async def test_dns_step_completes_when_every_record_but_mx_passes(
    slack: SlackClient, fake_slack: FakeSlack, database_url: str
) -> None:
    await start_tenant(slack, fake_slack, name="Premx", domains="premx.test")
    update = await fake_slack.wait_for(
        "chat.update", lambda c: "DNS records* — done by the bot" in dns_line(c.blocks)
    )
    assert "premx.test :white_check_mark:" in dns_line(update.blocks)
    dns = (await status_of(database_url)).step(StepId.DNS)
    assert dns.status is Status.DONE and dns.actor_id == "bot"
    assert dns.evidence is not None and dns.evidence["passed"] is True


async def test_failing_domain_keeps_the_step_open_and_recheck_reruns(
    slack: SlackClient, fake_slack: FakeSlack, database_url: str
) -> None:
    await start_tenant(slack, fake_slack, name="Legacy", domains="bpos.test")
    first = await fake_slack.wait_for("chat.update", lambda c: "Last check" in dns_line(c.blocks))
    assert "bpos.test: to fix" in dns_line(first.blocks)
    status = await status_of(database_url)
    dns = status.step(StepId.DNS)
    assert dns.status is Status.OPEN and dns.evidence is not None
    assert dns.evidence["passed"] is False and dns.evidence["domains"][0]["failing"]
    checked = dns.evidence["checked_at"]

    updates = len(fake_slack.calls_to("chat.update"))
    response = await slack.block_action("runbook.dns_recheck", str(status.tenant.id))
    assert response.status == 200
    await fake_slack.wait_for(
        "chat.update", lambda c: fake_slack.calls_to("chat.update").index(c) >= updates
    )
    again = (await status_of(database_url)).step(StepId.DNS)
    assert again.status is Status.OPEN
    assert again.evidence is not None and again.evidence["checked_at"] > checked


async def test_a_failing_audit_cannot_be_marked_done_by_hand(
    slack: SlackClient, fake_slack: FakeSlack, database_url: str
) -> None:
    """The reviewer's path: bpos.test has records to fix; `done dns` and a (forged) Done click
    are refused with why and what to do, and the runbook shows no Done for dns."""
    await start_tenant(slack, fake_slack, name="Legacy", domains="bpos.test")
    first = await fake_slack.wait_for("chat.update", lambda c: "Last check" in dns_line(c.blocks))
    assert "bpos.test: to fix" in dns_line(first.blocks)
    buttons = [e for b in first.blocks if b["type"] == "actions" for e in b["elements"]]
    assert "runbook.done" not in [e["action_id"] for e in buttons if e["value"].endswith(":dns")]
    typed = await slack.command(COMMAND, "done dns")
    assert "The bot marks *DNS records* done" in typed.shown_text
    assert "Re-check DNS" in typed.shown_text and "/transition skip dns" in typed.shown_text
    tenant_id = (await status_of(database_url)).tenant.id
    await slack.block_action(
        "runbook.done", f"{tenant_id}:dns", message=runbook_message(fake_slack)
    )
    await ephemeral(fake_slack, "The bot marks *DNS records* done")
    dns = (await status_of(database_url)).step(StepId.DNS)
    assert dns.status is Status.OPEN and dns.evidence is not None
    assert dns.evidence["passed"] is False
