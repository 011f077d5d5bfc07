"""The Web API gateway against the fake Web API: members across pages, refusals reported."""

from __future__ import annotations

from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.webapi import SlackWebApi
from tests.support.fake_slack import BOT_USER, FakeSlack


def gateway(fake_slack: FakeSlack) -> SlackWebApi:
    return SlackWebApi(AsyncWebClient(token=fake_slack.token, base_url=fake_slack.api_url))


async def test_channel_members_reads_every_page(fake_slack: FakeSlack) -> None:
    fake_slack.channel_members["C1"] = [BOT_USER, "U1", "U2", "U3", "U1"]
    fake_slack.members_page_size = 2
    members = await gateway(fake_slack).channel_members("C1", BOT_USER)
    assert members == ["U1", "U2", "U3"]  # the bot left out, each person once
    assert len(fake_slack.calls_to("conversations.members")) == 3


async def test_a_refused_post_or_edit_is_reported_not_raised(fake_slack: FakeSlack) -> None:
    api = gateway(fake_slack)
    ts = await api.post("C1", "hello", [])
    assert ts is not None and await api.update("C1", ts, "edited", []) is True
    fake_slack.channels_without_bot.add("C1")
    assert await api.post("C1", "hello", []) is None
    assert await api.update("C1", ts, "edited", []) is False


async def test_admin_check(fake_slack: FakeSlack) -> None:
    fake_slack.users["U1"] = {"id": "U1", "is_admin": True}
    fake_slack.users["U2"] = {"id": "U2", "is_owner": False}
    assert await gateway(fake_slack).is_workspace_admin("U1") is True
    assert await gateway(fake_slack).is_workspace_admin("U2") is False
    fake_slack.fail_next("users.info", error="ratelimited")
    assert await gateway(fake_slack).is_workspace_admin("U1") is None
