"""`/transition approve mx` and `/transition reject mx`: the request's buttons, typed, for an
approver who cannot reach the message (far up the channel, or a new console session)."""

from __future__ import annotations

import json

from bot.core.approvals import RequestStatus
from tests.slack_tenants.conftest import BOB, CAROL, COMMAND, DAVE, MALLORY, OWNER
from tests.slack_tenants.test_approvals import open_request, ready_for_mx, request_of
from tests.support.fake_slack import FakeSlack
from tests.support.slack_requests import SlackClient


async def test_typed_approvals_count_like_clicks_and_edit_the_request_message(
    slack: SlackClient, fake_slack: FakeSlack, database_url: str
) -> None:
    await ready_for_mx(slack, fake_slack, database_url)
    tenant_id, request_id = await open_request(slack, fake_slack, database_url)

    answer = await slack.command(COMMAND, "approve mx", user_id=BOB)
    assert answer.shown_text.startswith("You approved *Move MX* (1 of 2 approvals)")
    view = await request_of(database_url, tenant_id, request_id)
    assert [v.user_id for v in view.votes] == [BOB] and view.status is RequestStatus.OPEN
    update = await fake_slack.wait_for("chat.update", lambda c: "1 of 2" in c.params["text"])
    assert f"<@{BOB}> approved" in json.dumps(update.blocks)

    again = await slack.command(COMMAND, "approve mx", user_id=BOB)
    assert "already recorded" in again.shown_text
    stranger = await slack.command(COMMAND, "approve mx", user_id=MALLORY)
    assert "not an approver" in stranger.shown_text
    assert len((await request_of(database_url, tenant_id, request_id)).votes) == 1

    await slack.command(COMMAND, "approve MX", user_id=CAROL)
    assert (await request_of(database_url, tenant_id, request_id)).status is RequestStatus.APPROVED
    await fake_slack.wait_for("chat.postMessage", lambda c: "The request is approved" in c.text)
    late = await slack.command(COMMAND, "reject mx", user_id=DAVE)
    assert "No request for `mx` is waiting for approvals here" in late.shown_text
    assert "/transition request mx" in late.shown_text


async def test_a_typed_reject_closes_the_request(
    slack: SlackClient, fake_slack: FakeSlack, database_url: str
) -> None:
    await ready_for_mx(slack, fake_slack, database_url)
    tenant_id, request_id = await open_request(slack, fake_slack, database_url)
    answer = await slack.command(COMMAND, "reject mx", user_id=DAVE)
    assert answer.shown_text.startswith("You rejected *Move MX*")
    assert (await request_of(database_url, tenant_id, request_id)).status is RequestStatus.REJECTED


async def test_a_typed_vote_needs_an_open_request_and_a_step(
    slack: SlackClient, fake_slack: FakeSlack, database_url: str
) -> None:
    await ready_for_mx(slack, fake_slack, database_url)
    none_yet = await slack.command(COMMAND, "approve mx", user_id=BOB)
    assert "No request for `mx` is waiting for approvals here" in none_yet.shown_text
    which = await slack.command(COMMAND, "approve", user_id=BOB)
    assert "Approve which request?" in which.shown_text and "`mx`" in which.shown_text
    unknown = await slack.command(COMMAND, "reject frobnicate", user_id=OWNER)
    assert unknown.status == 200 and "frobnicate" in unknown.shown_text
