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
from dataclasses import dataclass
from typing import Any

import pytest

from bot.dnscheck.model import DnsConfig
from bot.jobs.shutdown import finish_work
from bot.slack.http_guard import GATE
from bot.slack.listener_tasks import LISTENER_TASKS
from tests.support.slack_fixtures import NO_DNS, BotServer, StartServer
from tests.support.slow_slack import HeldMethod, holding
from tests.support.waiting import eventually

HOME = {"type": "app_home_opened", "user": "U0ALICE", "tab": "home"}


@pytest.fixture
async def fake_slack() -> AsyncIterator[HeldMethod]:
    async with holding("views.publish") as fake:  # until the test lets it answer
        yield fake


@pytest.fixture
def slack_dns_config() -> DnsConfig:
    return NO_DNS


@dataclass(frozen=True)
class Publishing:
    server: BotServer
    listener: asyncio.Task[Any]  # the App Home listener's task, after its ack


@pytest.fixture
async def publishing(bot_server: StartServer, fake_slack: HeldMethod) -> Publishing:
    """A server whose App Home listener has acked its event and now waits for views.publish."""
    server = await bot_server()
    assert (await server.slack.event(HOME)).status == 200  # acked before the listener's work
    await asyncio.wait_for(fake_slack.asked.wait(), 60)
    assert fake_slack.calls_to("views.publish") == []
    (listener,) = server.app[LISTENER_TASKS].running()
    return Publishing(server, listener)


def shutdown_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "bot.jobs.shutdown"]


async def test_shutdown_waits_for_a_listener_after_its_ack(
    publishing: Publishing, fake_slack: HeldMethod, caplog: pytest.LogCaptureFixture
) -> None:
    server = publishing.server
    with caplog.at_level(logging.INFO, logger="bot.jobs.shutdown"):
        finishing = asyncio.create_task(finish_work(server.app, server.runtime.db.sessionmaker))
        await eventually(lambda: not server.app[GATE].open, "the shutdown to begin")
        fake_slack.may_answer.set()
        await finishing

    assert publishing.listener.done() and not publishing.listener.cancelled()
    assert len(fake_slack.calls_to("views.publish")) == 1  # the home went out before the exit
    assert not any("cancelling" in w for w in shutdown_warnings(caplog))
    assert server.app[LISTENER_TASKS].running() == set()


async def test_shutdown_cancels_a_listener_still_running_after_its_budget(
    publishing: Publishing, fake_slack: HeldMethod, caplog: pytest.LogCaptureFixture
) -> None:
    server = publishing.server
    with caplog.at_level(logging.INFO, logger="bot.jobs.shutdown"):
        await finish_work(server.app, server.runtime.db.sessionmaker)  # what SIGTERM runs

    assert publishing.listener.cancelled()  # not left running past the shutdown
    assert any("cancelling 1 unfinished" in w for w in shutdown_warnings(caplog))
    assert fake_slack.calls_to("views.publish") == []
