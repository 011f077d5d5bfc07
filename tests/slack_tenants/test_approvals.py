"""`/transition request mx|lync` and the Approve / Reject buttons, through the real endpoint."""

from __future__ import annotations

import asyncio
import json

from bot.core.approvals import RequestStatus
from bot.core.runbook import Status, StepId
from bot.services.approvals import get_request
from bot.services.common import Caller
from bot.services.views import ApprovalView
from storage.database import Database
from tests.slack_tenants.conftest import (
    BOB,
    CAROL,
    COMMAND,
    DAVE,
    MALLORY,
    OTHER_TEAM,
    OWNER,
    dns_passes,
    ephemeral,
    start_tenant,
    status_of,
)
from tests.support.fake_slack import DEFAULT_TEAM, FakeSlack
from tests.support.slack_requests import DEFAULT_CHANNEL, SlackClient


async def request_of(database_url: str, tenant_id: int, request_id: int) -> ApprovalView:
    db = Database(database_url)
    try:
        return await get_request(
            db.uow(), Caller(DEFAULT_TEAM, OWNER, DEFAULT_CHANNEL), tenant_id, request_id
        )
    finally:
        await db.dispose()


async def ready_for_mx(slack: SlackClient, fake: FakeSlack, database_url: str) -> None:
    """A tenant whose MX gate is open; OWNER (the requester later) is also an approver."""
    await start_tenant(slack, fake, approvers=(OWNER, BOB, CAROL, DAVE))
    response = await slack.command(COMMAND, "done verify-data")  # "I see my mail in OWA"
    assert "done" in response.shown_text
    await dns_passes(database_url)


async def open_request(slack: SlackClient, fake: FakeSlack, database_url: str) -> tuple[int, int]:
    response = await slack.command(COMMAND, "request mx")
    assert response.status == 200 and response.text == ""
    post = await fake.wait_for(
        "chat.postMessage", lambda c: str(c.params.get("text", "")).startswith("Approval for")
    )
    approve = next(
        e
        for b in post.blocks
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == "approval.approve"
    )
    tenant_id, request_id = (int(p) for p in approve["value"].split(":"))
    assert (await status_of(database_url)).tenant.id == tenant_id
    return tenant_id, request_id


async def test_request_mx_is_refused_until_data_and_dns_are_done(
    slack: SlackClient, fake_slack: FakeSlack
) -> None:
    await start_tenant(slack, fake_slack)
    response = await slack.command(COMMAND, "request mx")
    assert "must be done before *Move MX*" in response.shown_text
    assert "verify-data" in response.shown_text
    assert not [c for c in fake_slack.calls_to("chat.postMessage") if "Approval" in str(c.params)]


async def test_k_distinct_approvers_grant_and_the_message_updates_in_place(
    slack: SlackClient, fake_slack: FakeSlack, database_url: str
) -> None:
    await ready_for_mx(slack, fake_slack, database_url)
    tenant_id, request_id = await open_request(slack, fake_slack, database_url)
    value = f"{tenant_id}:{request_id}"
    message = {"ts": "99.000001"}

    await slack.block_action("approval.approve", value, message=message, user_id=OWNER)
    await slack.block_action("approval.reject", value, message=message, user_id=OWNER)
    await slack.block_action("approval.approve", value, message=message, user_id=MALLORY)
    own = await request_of(database_url, tenant_id, request_id)
    assert own.votes == () and own.status is RequestStatus.OPEN  # the requester's Reject too
    await ephemeral(fake_slack, "your click does not count", "To withdraw it", "not an approver")
    said = [c for c in fake_slack.calls_to("response_url") if "does not count" in c.text]
    assert len(said) == 2

    await slack.block_action("approval.approve", value, message=message, user_id=BOB)
    view = await request_of(database_url, tenant_id, request_id)  # committed before the ack
    assert [v.user_id for v in view.votes] == [BOB] and view.status is RequestStatus.OPEN
    update = await fake_slack.wait_for("chat.update", lambda c: "1 of 2" in c.params["text"])
    assert f"<@{BOB}> approved" in json.dumps(update.blocks)

    await slack.block_action("approval.approve", value, message=message, user_id=CAROL)
    view = await request_of(database_url, tenant_id, request_id)
    assert view.status is RequestStatus.APPROVED
    final = await fake_slack.wait_for("chat.update", lambda c: "approved" in c.params["text"])
    assert not [b for b in final.blocks if b["type"] == "actions"]  # no more buttons
    # the runbook's gate line follows the request: who approved, not "then 2 approval(s)"
    runbook = await fake_slack.wait_for(
        "chat.update", lambda c: f"approved by <@{BOB}>, <@{CAROL}>" in json.dumps(c.blocks)
    )
    assert "of 8 done" in runbook.params["text"]
    assert "approval(s)" not in json.dumps(runbook.blocks)
    # approved is not moved: only the watch marks MX done, once every server serves it
    done = await slack.command(COMMAND, "done mx")
    assert "The bot marks *Move MX* done when every authoritative" in done.shown_text
    assert (await status_of(database_url)).step(StepId.MX).status is Status.OPEN


async def test_one_reject_closes_the_request(
    slack: SlackClient, fake_slack: FakeSlack, database_url: str
) -> None:
    await ready_for_mx(slack, fake_slack, database_url)
    tenant_id, request_id = await open_request(slack, fake_slack, database_url)
    value = f"{tenant_id}:{request_id}"
    await slack.block_action("approval.approve", value, user_id=BOB)
    await slack.block_action("approval.reject", value, user_id=DAVE)
    assert (await request_of(database_url, tenant_id, request_id)).status is RequestStatus.REJECTED
    await slack.block_action("approval.approve", value, user_id=CAROL)
    await ephemeral(fake_slack, "already rejected")
    refused = await slack.command(COMMAND, "done mx")
    assert "The bot marks *Move MX* done" in refused.shown_text
    assert (await status_of(database_url)).step(StepId.MX).status is Status.OPEN


async def test_two_clicks_in_flight_record_one_vote(
    slack: SlackClient, fake_slack: FakeSlack, database_url: str
) -> None:
    await ready_for_mx(slack, fake_slack, database_url)
    tenant_id, request_id = await open_request(slack, fake_slack, database_url)
    value = f"{tenant_id}:{request_id}"
    responses = await asyncio.gather(
        slack.block_action("approval.approve", value, user_id=BOB),
        slack.block_action("approval.approve", value, user_id=BOB),
        slack.block_action("approval.approve", value, user_id=BOB),
    )
    assert all(r.status == 200 for r in responses)
    view = await request_of(database_url, tenant_id, request_id)
    assert [v.user_id for v in view.votes] == [BOB]
    assert view.status is RequestStatus.OPEN


async def test_another_workspace_cannot_vote(
    slack: SlackClient, fake_slack: FakeSlack, database_url: str
) -> None:
    await ready_for_mx(slack, fake_slack, database_url)
    tenant_id, request_id = await open_request(slack, fake_slack, database_url)
    await slack.block_action(
        "approval.approve", f"{tenant_id}:{request_id}", user_id=BOB, team_id=OTHER_TEAM
    )
    # a single-token bot serves its own workspace: another one's click and command are refused
    # at the edge, saying why, and change nothing (OAuth installs: tests/oauth)
    assert (await request_of(database_url, tenant_id, request_id)).votes == ()
    await ephemeral(fake_slack, "this request comes from another workspace")
    response = await slack.command(COMMAND, "request mx", team_id=OTHER_TEAM)
    assert "comes from another workspace" in response.shown_text
    assert (await request_of(database_url, tenant_id, request_id)).votes == ()
