"""Uninstall and token revocation stop a workspace's background work at once; its data stays
until `transition-bot workspace delete TEAM_ID`, which removes it and nothing else."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import sys
import time
from collections.abc import Awaitable, Callable

from slack_bolt.request.async_request import AsyncBoltRequest
from sqlalchemy import text

from bot.app.runtime import Runtime
from bot.app.server import BOLT_APP
from bot.ops.config import Settings
from bot.slack.workspaces import client_for_team, client_for_tenant
from tests.oauth.conftest import ALPHA, BETA, install, start
from tests.support.fake_slack import DEFAULT_TEAM, FakeSlack
from tests.support.slack_fixtures import BotServer, StartServer
from tests.support.slack_requests import sign
from tests.support.waiting import eventually


async def count(runtime: Runtime, sql: str, **params: object) -> int:
    async with runtime.db.engine.connect() as conn:
        return int((await conn.execute(text(sql), params)).scalar_one())


async def installed_rows(runtime: Runtime, team_id: str) -> int:
    return await count(
        runtime, "SELECT COUNT(*) FROM slack_installations WHERE team_id = :t", t=team_id
    ) + await count(runtime, "SELECT COUNT(*) FROM slack_bots WHERE team_id = :t", t=team_id)


async def test_app_uninstalled_stops_that_workspace_only_and_keeps_its_data(
    oauth_bot: BotServer, fake_slack: FakeSlack
) -> None:
    runtime = oauth_bot.runtime
    await install(oauth_bot, fake_slack, ALPHA)
    await install(oauth_bot, fake_slack, BETA)
    alpha = await start(oauth_bot, ALPHA, "Alpha Corp", "alpha.example")
    beta = await start(oauth_bot, BETA, "Beta GmbH", "beta.example")
    assert await client_for_tenant(runtime, alpha.tenant.id) is not None

    fake_slack.oauth.revoke_team(ALPHA)  # Slack revokes the tokens, then tells the app
    response = await oauth_bot.slack.event({"type": "app_uninstalled"}, team_id=ALPHA)

    assert response.status == 200
    await _until(lambda: installed_rows(runtime, ALPHA), 0)  # the listener runs after the ack
    assert await client_for_tenant(runtime, alpha.tenant.id) is None
    assert await client_for_team(runtime, ALPHA) is None
    beta_client = await client_for_tenant(runtime, beta.tenant.id)
    assert beta_client is not None
    assert beta_client.token == fake_slack.oauth.tokens_of(BETA)[0]
    assert await count(runtime, "SELECT COUNT(*) FROM tenants") == 2  # data stays

    await install(oauth_bot, fake_slack, ALPHA)  # installed again: work resumes
    client = await client_for_tenant(runtime, alpha.tenant.id)
    assert client is not None and client.token == fake_slack.oauth.tokens_of(ALPHA)[0]


async def test_tokens_revoked_stops_the_workspace_when_the_bot_token_goes(
    oauth_bot: BotServer, fake_slack: FakeSlack
) -> None:
    runtime = oauth_bot.runtime
    await install(oauth_bot, fake_slack, ALPHA)
    alpha = await start(oauth_bot, ALPHA, "Alpha Corp", "alpha.example")

    bot = {"type": "tokens_revoked", "tokens": {"oauth": [], "bot": ["B0ALPHA"]}}
    assert (await oauth_bot.slack.event(bot, team_id=ALPHA)).status == 200
    await _until(lambda: installed_rows(runtime, ALPHA), 0)
    assert await client_for_tenant(runtime, alpha.tenant.id) is None


async def test_single_token_mode_stops_on_app_uninstalled_and_resumes_with_a_working_token(
    database_url: str,  # first: set up before the servers, dropped after they stopped
    bot_server: StartServer,
    bot_settings: Settings,
    fake_slack: FakeSlack,
) -> None:
    settings = dataclasses.replace(bot_settings, database_url=database_url)
    server = await bot_server(settings)
    tenant = await start(server, DEFAULT_TEAM, "Solo Ltd", "solo.example")
    client = await client_for_tenant(server.runtime, tenant.tenant.id)
    assert client is not None and client.token == fake_slack.token

    assert (await server.slack.event({"type": "app_uninstalled"})).status == 200
    await _until(lambda: client_for_tenant(server.runtime, tenant.tenant.id), None)

    # Reinstalled, and the bot restarted with the (working) token: work resumes at start.
    restarted = await bot_server(settings)
    await _until(lambda: _has_client(restarted.runtime, tenant.tenant.id), True)


async def _has_client(runtime: Runtime, tenant_id: int) -> bool:
    return await client_for_tenant(runtime, tenant_id) is not None


async def test_workspace_delete_removes_its_tenants_and_installs_only(
    oauth_bot: BotServer, fake_slack: FakeSlack, oauth_settings: Settings
) -> None:
    runtime = oauth_bot.runtime
    await install(oauth_bot, fake_slack, ALPHA)
    await install(oauth_bot, fake_slack, BETA)
    alpha = await start(oauth_bot, ALPHA, "Alpha Corp", "alpha.example")
    await start(oauth_bot, BETA, "Beta GmbH", "beta.example")
    steps_of = "SELECT COUNT(*) FROM step_states WHERE tenant_id = :t"
    assert await count(runtime, steps_of, t=alpha.tenant.id) > 0

    listed = await _cli(oauth_settings, "workspace", "list")
    assert listed[0] == 0 and ALPHA in listed[1] and BETA in listed[1]
    refused = await _cli(oauth_settings, "workspace", "delete", ALPHA)  # no tty, no --yes
    assert refused[0] == 1 and "--yes" in refused[2]
    assert await count(runtime, "SELECT COUNT(*) FROM tenants") == 2

    code, out, err = await _cli(oauth_settings, "workspace", "delete", ALPHA, "--yes")

    assert code == 0, err
    assert "deleted 1 tenant(s)" in out
    assert await count(runtime, "SELECT COUNT(*) FROM tenants") == 1
    assert await count(runtime, steps_of, t=alpha.tenant.id) == 0  # cascaded
    assert (
        await count(
            runtime, "SELECT COUNT(*) FROM audit_events WHERE tenant_id = :t", t=alpha.tenant.id
        )
        == 0
    )
    assert await installed_rows(runtime, ALPHA) == 0
    assert await installed_rows(runtime, BETA) == 2
    assert await count(runtime, "SELECT COUNT(*) FROM workspaces WHERE team_id = :t", t=BETA) == 1

    again = await _cli(oauth_settings, "workspace", "delete", ALPHA, "--yes")
    assert again[0] == 1 and "no such workspace" in again[1]


async def _cli(settings: Settings, *args: str) -> tuple[int, str, str]:
    env = {**os.environ, "DATABASE_URL": settings.database_url}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        *args,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    return proc.returncode or 0, out.decode(), err.decode()


async def _until(probe: Callable[[], Awaitable[object]], expected: object) -> None:
    """Wait until ``probe()`` returns ``expected`` (event listeners run after the ack)."""

    async def reached() -> bool:
        return await probe() == expected

    await eventually(reached, f"the probe to return {expected!r}", interval=0.02)


async def test_an_uninstall_is_stored_before_its_ack_so_a_crash_after_the_ack_loses_nothing(
    database_url: str,
    bot_server: StartServer,
    bot_settings: Settings,
    fake_slack: FakeSlack,
) -> None:
    """The crash window: the process dies as the ack leaves, before the listener Bolt runs
    after it. Dispatched straight through the app, the follow-up task is cancelled before it
    ever runs; the uninstall must already be in the database."""
    settings = dataclasses.replace(bot_settings, database_url=database_url)
    server = await bot_server(settings)
    tenant = await start(server, DEFAULT_TEAM, "Solo Ltd", "solo.example")
    body = json.dumps(
        {
            "team_id": DEFAULT_TEAM,
            "api_app_id": "A0TRANSITION",
            "type": "event_callback",
            "event_id": "Ev0CRASH0001",
            "event_time": int(time.time()),
            "event": {"type": "app_uninstalled", "event_ts": f"{time.time():.6f}"},
        }
    )
    now = int(time.time())
    request = AsyncBoltRequest(
        body=body,
        headers={
            "content-type": "application/json",
            "x-slack-request-timestamp": str(now),
            "x-slack-signature": sign(server.slack.signing_secret, body, now),
        },
    )

    ack = await server.app[BOLT_APP].async_dispatch(request)
    died = [
        task
        for task in asyncio.all_tasks()
        if "run_ack_function_asynchronously" in getattr(task.get_coro(), "__qualname__", "")
    ]
    for task in died:  # the process is gone: nothing after the ack runs
        task.cancel()

    assert ack.status == 200
    assert died, "Bolt runs the event's listener after the ack"
    assert await client_for_tenant(server.runtime, tenant.tenant.id) is None  # recorded
    again = await server.slack.event({"type": "app_uninstalled"}, event_id="Ev0CRASH0001")
    assert again.status == 200  # Slack's retry: a duplicate now, dropped
    assert await client_for_tenant(server.runtime, tenant.tenant.id) is None
