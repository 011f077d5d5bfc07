"""The Re-check button when the message cannot simply be edited, or the audit cannot run."""

from __future__ import annotations

from bot.blocks.ids import ActionId
from tests.support.fake_slack import FakeSlack
from tests.support.slack_requests import SlackClient

TS = "1700000000.000100"


async def test_recheck_edits_the_message_in_place(
    slack: SlackClient, fake_slack: FakeSlack
) -> None:
    response = await slack.block_action(ActionId.RECHECK, "moved.test", message={"ts": TS})
    assert response.status == 200
    update = await fake_slack.wait_for("chat.update")
    assert (update.params["channel"], update.params["ts"]) == (slack.channel_id, TS)
    assert update.blocks[0]["text"]["text"] == "DNS check: moved.test"
    assert fake_slack.calls_to("chat.postMessage") == []


async def test_recheck_without_the_bot_in_the_channel_replaces_via_response_url(
    slack: SlackClient, fake_slack: FakeSlack
) -> None:
    fake_slack.channels_without_bot.add(slack.channel_id)
    await slack.block_action(ActionId.RECHECK, "moved.test", message={"ts": TS})
    reply = await fake_slack.wait_for("response_url")
    assert reply.params["replace_original"] is True
    assert "DNS check: moved.test" in reply.text
    assert len(fake_slack.calls_to("chat.update")) == 1  # tried first, refused


async def test_recheck_that_cannot_reach_dns_leaves_the_report_alone(
    slack: SlackClient, fake_slack: FakeSlack
) -> None:
    await slack.block_action(ActionId.RECHECK, "silent.test", message={"ts": TS})
    reply = await fake_slack.wait_for("response_url")
    assert "The report above is unchanged" in reply.text
    assert reply.params["replace_original"] is False
    assert reply.params["response_type"] == "ephemeral"
    assert fake_slack.calls_to("chat.update") == []


async def test_recheck_with_a_tampered_value_explains_and_audits_nothing(
    slack: SlackClient, fake_slack: FakeSlack
) -> None:
    await slack.block_action(ActionId.RECHECK, ";rm -rf /", message={"ts": TS})
    reply = await fake_slack.wait_for("response_url")
    assert "not a domain name" in reply.text
    assert reply.params["replace_original"] is False
    assert fake_slack.calls_to("chat.update") == []
