"""Shutdown and the work listeners do after their ack: Bolt answers Slack first and runs the
rest of the listener in a task of its own. The shutdown holds that task by reference: it waits
for it, and cancels it once its budget is spent.

The bot's real server on the test database (SQLite), a fake Slack whose views.publish (App
Home, published after the event's ack) hangs until the test lets it answer.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from bot.dnscheck.model import DnsConfig
from bot.jobs.shutdown import finish_work
from bot.slack.http_guard import GATE
from bot.slack.listener_tasks import LISTENER_TASKS
from tests.support.fake_slack import FakeSlack
from tests.support.slack_fixtures import NO_DNS, BotServer, StartServer
from tests.support.waiting import eventually

HOME = {"type": "app_home_opened", "user": "U0ALICE", "tab": "home"}


class PublishHangs(FakeSlack):
    """views.publish answers only once ``publish_may_answer`` is set (and is recorded then)."""

    def __init__(self) -> None:
        super().__init__()
        self.publish_asked = asyncio.Event()
        self.publish_may_answer = asyncio.Event()

    async def _handle_api(self, request: web.Request) -> web.Response:
        if request.match_info.get("method") == "views.publish":
            self.publish_asked.set()
            await self.publish_may_answer.wait()
        return await super()._handle_api(request)


@pytest.fixture
async def fake_slack() -> AsyncIterator[PublishHangs]:
    fake = PublishHangs()
    await fake.start()
    try:
        yield fake
    finally:
        fake.publish_may_answer.set()
        await fake.close()


@pytest.fixture
def slack_dns_config() -> DnsConfig:
    return NO_DNS


async def publishing(bot_server: StartServer, fake_slack: PublishHangs) -> BotServer:
    """A server whose App Home listener has acked its event and now waits for views.publish."""
    server = await bot_server()
    assert (await server.slack.event(HOME)).status == 200  # acked before the listener's work
    await asyncio.wait_for(fake_slack.publish_asked.wait(), 60)
    assert fake_slack.calls_to("views.publish") == []
    return server


async def test_shutdown_waits_for_a_listener_after_its_ack(
    bot_server: StartServer, fake_slack: PublishHangs, caplog: pytest.LogCaptureFixture
) -> None:
    server = await publishing(bot_server, fake_slack)
    (listener,) = server.app[LISTENER_TASKS].running()

    with caplog.at_level(logging.INFO, logger="bot.jobs.shutdown"):
        finishing = asyncio.create_task(finish_work(server.app, server.runtime.db.sessionmaker))
        await eventually(lambda: not server.app[GATE].open, "the shutdown to begin")
        fake_slack.publish_may_answer.set()
        await finishing

    assert listener.done() and not listener.cancelled()
    assert len(fake_slack.calls_to("views.publish")) == 1  # the home went out before the exit
    assert not any("cancelling" in r.getMessage() for r in caplog.records)
    assert server.app[LISTENER_TASKS].running() == set()


async def test_shutdown_cancels_a_listener_still_running_after_its_budget(
    bot_server: StartServer, fake_slack: PublishHangs, caplog: pytest.LogCaptureFixture
) -> None:
    server = await publishing(bot_server, fake_slack)
    (listener,) = server.app[LISTENER_TASKS].running()

    with caplog.at_level(logging.INFO, logger="bot.jobs.shutdown"):
        await finish_work(server.app, server.runtime.db.sessionmaker)  # what SIGTERM runs

    assert listener.cancelled()  # not left running past the shutdown
    warnings = [r.getMessage() for r in caplog.records if r.name == "bot.jobs.shutdown"]
    assert any("cancelling 1 unfinished" in w for w in warnings), warnings
    assert fake_slack.calls_to("views.publish") == []
