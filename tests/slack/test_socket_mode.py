"""`transition-bot socket`: the same app over a websocket, against the fake Slack's Socket Mode.

Slack pushes an envelope; the app acknowledges it on the socket (Socket Mode's 3-second ack)
and does the slow work afterwards through the Web API, exactly as over HTTP.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from urllib.parse import parse_qsl

import pytest

from bot.app.socket_mode import serve_socket_mode
from bot.ops.config import ConfigError, Settings
from tests.support.fake_slack import FakeSlack
from tests.support.slack_requests import SlackClient


@pytest.fixture
async def socket_app(fake_slack: FakeSlack, bot_settings: Settings) -> AsyncIterator[Settings]:
    settings = dataclasses.replace(bot_settings, slack_app_token=fake_slack.socket.app_token)
    stop = asyncio.Event()
    task = asyncio.create_task(serve_socket_mode(settings, "127.0.0.1", 0, stop))
    yield settings
    stop.set()
    await asyncio.wait_for(task, 10)


async def test_check_over_the_socket_acks_then_posts_the_report(
    socket_app: Settings, fake_slack: FakeSlack
) -> None:
    body = SlackClient("", fake_slack).command_body("/transition", "check bpos.test")
    ack = await fake_slack.socket.send("slash_commands", dict(parse_qsl(body)))
    assert "Checking bpos.test" in str(ack.get("payload"))
    post = await fake_slack.wait_for("chat.postMessage", lambda call: "bpos.test" in call.text)
    assert "mail.global.frontbridge.com" in str(post.blocks)
    assert fake_slack.calls_to("apps.connections.open")[0].token == fake_slack.socket.app_token


async def test_a_refused_app_token_stops_start_up_with_one_line(
    fake_slack: FakeSlack, bot_settings: Settings
) -> None:
    settings = dataclasses.replace(bot_settings, slack_app_token="xapp-1-wrong-token-value")
    with pytest.raises(
        ConfigError, match=r"^SLACK_APP_TOKEN was refused by Slack \(invalid_auth\)"
    ):
        await asyncio.wait_for(serve_socket_mode(settings, "127.0.0.1", 0, asyncio.Event()), 10)
    assert fake_slack.socket.connections == []
