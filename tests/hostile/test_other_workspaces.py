"""Requests from other workspaces in single-token mode (``SLACK_BOT_TOKEN``): the bot serves
the workspace its token belongs to. A correctly signed request from another team id is
refused and says why, unless it comes from a Slack Connect channel the installed workspace
hosts (then it acts there); a request that names no workspace at all (an Enterprise Grid
org-wide install) gets a clear message. Nothing is written for a refused request.

The bot's real server and database, signed requests, the fake Web API whose conversations.info
says which team hosts a shared channel.
"""

from __future__ import annotations

import dataclasses
import json

import pytest
from sqlalchemy import func, select

from bot.dnscheck.model import DnsConfig
from bot.ops.config import Settings
from storage.models import AuditEvent
from tests.support.fake_slack import DEFAULT_TEAM, FakeSlack
from tests.support.slack_fixtures import NO_DNS, BotServer, StartServer
from tests.support.waiting import count_rows
from tests.watch.tenants import start_tenants

OTHER = "T0OTHER"
SHARED_HERE = "C0SHAREDHERE"  # a Slack Connect channel the installed workspace hosts
SHARED_THERE = "C0SHAREDTHERE"  # one the other workspace hosts


@pytest.fixture
def slack_dns_config() -> DnsConfig:
    return NO_DNS


@pytest.fixture
async def server(
    database_url: str, bot_server: StartServer, bot_settings: Settings, fake_slack: FakeSlack
) -> BotServer:
    started = await bot_server(dataclasses.replace(bot_settings, database_url=database_url))
    fake_slack.channel_hosts.update({SHARED_HERE: DEFAULT_TEAM, SHARED_THERE: OTHER})
    await start_tenants(
        started.runtime.db.uow, ["here.example"], channel=SHARED_HERE, team=DEFAULT_TEAM
    )
    await start_tenants(
        started.runtime.db.uow, ["there.example"], channel=SHARED_THERE, team=DEFAULT_TEAM
    )
    return started


async def audit_rows(server: BotServer) -> int:
    return await count_rows(
        server.runtime.db.sessionmaker, select(func.count()).select_from(AuditEvent)
    )


@pytest.mark.parametrize("channel", ["C0CUTOVER", SHARED_THERE])
async def test_a_request_from_another_workspace_is_refused_and_says_why(
    server: BotServer, fake_slack: FakeSlack, channel: str
) -> None:
    before = await audit_rows(server)
    response = await server.slack.command(
        "/transition", "done software", team_id=OTHER, channel_id=channel
    )
    assert response.status == 200
    assert "comes from another workspace (T0OTHER)" in response.shown_text
    assert "Nothing was done" in response.shown_text

    click = await server.slack.block_action("runbook.skip", "1:lync", team_id=OTHER)
    assert click.status == 200
    told = await fake_slack.wait_for("response_url", lambda c: "another workspace" in c.text)
    assert told.params.get("response_type") == "ephemeral"
    assert await audit_rows(server) == before  # nothing written


async def test_slack_connect_in_a_channel_of_the_installed_workspace_is_served(
    server: BotServer,
) -> None:
    before = await audit_rows(server)
    response = await server.slack.command(
        "/transition", "done software", team_id=OTHER, channel_id=SHARED_HERE
    )
    assert response.status == 200
    assert "another workspace" not in response.shown_text
    assert await audit_rows(server) == before + 1  # acted in the installed workspace


async def test_the_installed_workspace_itself_is_served(server: BotServer) -> None:
    response = await server.slack.command("/transition", "help", team_id=DEFAULT_TEAM)
    assert response.status == 200 and "/transition check" in response.shown_text


async def test_an_org_wide_request_without_a_workspace_gets_a_clear_message(
    server: BotServer, fake_slack: FakeSlack
) -> None:
    before = await audit_rows(server)
    payload = {
        "type": "block_actions",
        "team": None,
        "enterprise": {"id": "E0GRID", "name": "Grid"},
        "is_enterprise_install": True,
        "user": {"id": "U0ALICE"},
        "api_app_id": "A0TRANSITION",
        "container": {"type": "message", "channel_id": SHARED_HERE, "message_ts": "1.000001"},
        "channel": {"id": SHARED_HERE},
        "trigger_id": "1.abc",
        "response_url": fake_slack.response_url(),
        "actions": [
            {"type": "button", "action_id": "runbook.skip", "value": "1:lync", "block_id": "b"}
        ],
    }
    response = await server.slack.interaction(payload)
    assert response.status == 200
    told = await fake_slack.wait_for("response_url", lambda c: "names no Slack workspace" in c.text)
    assert "Enterprise Grid org-wide install" in json.dumps(told.params)
    assert await audit_rows(server) == before
