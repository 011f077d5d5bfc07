"""A new `transition-bot serve` process on the same database finds everything where it was."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from tests.slack_tenants.conftest import BOB, COMMAND, dns_passes, start_tenant
from tests.support.fake_slack import FakeSlack
from tests.support.slack_fixtures import StartServer
from tests.support.slack_requests import DEFAULT_SIGNING_SECRET, SlackClient
from tests.support.waiting import eventually

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def wait_healthy(base_url: str, process: asyncio.subprocess.Process) -> None:
    async with aiohttp.ClientSession() as session:

        async def up_or_exited() -> bool:
            if process.returncode is not None:
                return True
            try:
                async with session.get(base_url + "/healthz") as response:
                    return response.status == 200
            except aiohttp.ClientError:
                return False

        await eventually(up_or_exited, "serve to answer /healthz", within=120)
    if process.returncode is not None:
        output = await process.stdout.read() if process.stdout else b""
        pytest.fail(f"serve did not come up: {output.decode(errors='replace')[-2000:]}")


@contextlib.asynccontextmanager
async def serve_process(
    fake_slack: FakeSlack, database_url: str, cwd: Path
) -> AsyncIterator[SlackClient]:
    """`python -m bot.cli serve` as its own process, pointed at the fake Slack."""
    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if key in ("PATH", "HOME", "LANG", "VIRTUAL_ENV")
    }
    env.update(
        PYTHONPATH=str(ROOT),
        SLACK_BOT_TOKEN=fake_slack.token,
        SLACK_SIGNING_SECRET=DEFAULT_SIGNING_SECRET,
        SLACK_API_URL=fake_slack.api_url,
        DATABASE_URL=database_url,
        TRANSITION_NAMESERVERS="127.0.0.1:9",
        TRANSITION_DNS_TIMEOUT="0.2",
        PORT=str(port),
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "serve",
        "--host",
        "127.0.0.1",
        env=env,
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        await wait_healthy(base_url, process)
        yield SlackClient(base_url + "/slack/events", fake_slack)
    finally:
        if process.returncode is None:
            process.terminate()
        await process.wait()


async def test_a_new_process_on_the_same_database_loses_nothing(
    database_url: str, bot_server: StartServer, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    first = await bot_server()
    await start_tenant(first.slack, fake_slack)
    for step in ("software", "verify-data"):
        await first.slack.command(COMMAND, f"done {step}")
    await dns_passes(database_url)
    await first.slack.command(COMMAND, "remind weekdays 09:00")
    await first.slack.command(COMMAND, "request mx")
    post = await fake_slack.wait_for(
        "chat.postMessage", lambda c: str(c.params.get("text", "")).startswith("Approval for")
    )
    value = next(e["value"] for b in post.blocks if b["type"] == "actions" for e in b["elements"])
    await first.slack.block_action("approval.approve", value, user_id=BOB)
    await first.app.shutdown()
    await first.app.cleanup()

    async with serve_process(fake_slack, database_url, tmp_path) as slack:
        reminders = await slack.command(COMMAND, "reminders")
        assert "weekdays 09:00" in reminders.shown_text
        again = await slack.block_action("approval.approve", value, user_id=BOB)
        assert again.status == 200
        await fake_slack.wait_for(
            "response_url", lambda c: "already recorded" in str(c.params.get("text", ""))
        )
        await slack.command(COMMAND, "status")
        await fake_slack.wait_for(
            "chat.postMessage", lambda c: "3 of 8 done" in str(c.params.get("text", ""))
        )
