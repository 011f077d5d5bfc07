"""Every way README documents to run the bot, as a process, with the settings README names.

Servers (``serve`` with one token, ``serve`` with OAuth, ``socket``) must answer ``/healthz``,
do one real thing against the fake Slack, and exit 0 on SIGTERM. Commands (``console``,
``check``, ``db upgrade``, ``workspace list``) must do their job and exit with their status.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from urllib.parse import parse_qsl

import pytest

from bot.app.server import SLACK_PATH
from bot.ops.secrets import generate_key
from storage.database import head_revision
from tests.entry.processes import Server, bot_env, free_port, run
from tests.oauth.conftest import STATE_SECRET, begin_install_at, finish_install_at
from tests.support.bind import BindServer
from tests.support.fake_slack import FakeSlack
from tests.support.fake_slack_oauth import CLIENT_ID, CLIENT_SECRET
from tests.support.slack_requests import DEFAULT_SIGNING_SECRET, SlackClient
from tests.support.waiting import eventually

StartServer = Callable[[str, dict[str, str]], Awaitable[Server]]
TEAM = "T0ALPHA"


@pytest.fixture
async def start_server(tmp_path: Path) -> AsyncIterator[StartServer]:
    """``await start_server("serve", env)``: running and healthy; killed at teardown if a
    failing test left it running."""
    started: list[Server] = []

    async def start(mode: str, env: dict[str, str]) -> Server:
        server = await Server.start([mode], env, tmp_path)
        started.append(server)
        return server

    yield start
    for server in started:
        if server.process.returncode is None:
            server.process.kill()
            await server.process.wait()


def slack_env(fake_slack: FakeSlack, tmp_path: Path, **settings: str) -> dict[str, str]:
    return bot_env(
        SLACK_API_URL=fake_slack.api_url,
        DATABASE_URL=f"sqlite:///{tmp_path / 'bot.db'}",
        PORT=str(free_port()),
        **settings,
    )


async def test_serve_with_a_single_token(
    start_server: StartServer, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    env = slack_env(
        fake_slack,
        tmp_path,
        SLACK_BOT_TOKEN=fake_slack.token,
        SLACK_SIGNING_SECRET=DEFAULT_SIGNING_SECRET,
    )
    server = await start_server("serve", env)

    slack = SlackClient(server.base_url + SLACK_PATH, fake_slack)
    response = await slack.command("/transition", "start contoso.example")
    assert response.status == 200
    opened = await fake_slack.wait_for("views.open")
    assert opened.token == fake_slack.token
    view = opened.params["view"]
    assert view["title"]["text"] == "Start a transition" and "contoso.example" in json.dumps(view)

    assert await server.stop() == 0


async def test_serve_with_oauth_installs_a_workspace(
    start_server: StartServer, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    env = slack_env(
        fake_slack,
        tmp_path,
        SLACK_CLIENT_ID=CLIENT_ID,
        SLACK_CLIENT_SECRET=CLIENT_SECRET,
        SLACK_SIGNING_SECRET=DEFAULT_SIGNING_SECRET,
        SLACK_STATE_SECRET=STATE_SECRET,
        TRANSITION_SECRET_KEY=generate_key(),
    )
    server = await start_server("serve", env)

    # "Add to Slack": /slack/install, Slack's consent, back to /slack/oauth_redirect
    fake_slack.oauth.add_install("code-alpha", TEAM)
    location, state, cookie = await begin_install_at(server.base_url)
    assert f"client_id={CLIENT_ID}" in location
    status, body = await finish_install_at(server.base_url, "code-alpha", state, cookie)
    assert status == 200, body
    assert [c.params["code"] for c in fake_slack.calls_to("oauth.v2.access")] == ["code-alpha"]
    (token,) = fake_slack.oauth.tokens_of(TEAM)

    # the stored token is the one the bot then answers that workspace with
    slack = SlackClient(server.base_url + SLACK_PATH, fake_slack, team_id=TEAM)
    assert (await slack.command("/transition", "start alpha.example")).status == 200
    await fake_slack.wait_for("views.open", lambda call: call.token == token)

    assert await server.stop() == 0
    with sqlite3.connect(tmp_path / "bot.db") as db:
        rows = db.execute("SELECT team_id, bot_token FROM slack_installations").fetchall()
    assert [team for team, _ in rows] == [TEAM]
    assert all(token not in sealed for _, sealed in rows)  # stored encrypted
    code, out, err = await run("workspace", "list", env=env, cwd=tmp_path)
    assert (code, out, err) == (0, f"{TEAM}\t0 tenant(s)\tinstalled\n", "")


async def test_socket_mode_answers_over_the_socket(
    start_server: StartServer, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    env = slack_env(
        fake_slack,
        tmp_path,
        SLACK_BOT_TOKEN=fake_slack.token,
        SLACK_APP_TOKEN=fake_slack.socket.app_token,
    )
    server = await start_server("socket", env)
    await eventually(lambda: fake_slack.socket.connections, "the Socket Mode connection")

    body = SlackClient("", fake_slack).command_body("/transition", "help")
    ack = await fake_slack.socket.send("slash_commands", dict(parse_qsl(body)))
    assert "/transition check" in json.dumps(ack["payload"])

    assert await server.stop() == 0


async def test_console_answers_a_command_and_quits(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'console.db'}"
    code, out, err = await run(
        "console", "--database", database, env=bot_env(), cwd=tmp_path, stdin="/transition help\n"
    )
    assert code == 0, err
    assert "U0ADMIN in #C0CONSOLE> /transition help" in out
    assert "/transition check" in out.split("/transition help", 1)[1]


async def test_check_audits_a_domain(bind: BindServer, tmp_path: Path) -> None:
    dns = ("--nameserver", bind.nameserver_arg, "--dns-port", str(bind.port))
    code, out, err = await run("check", "premx.test", *dns, "--json", env=bot_env(), cwd=tmp_path)
    assert (code, err) == (1, "")  # MX must still move: something must change
    report = json.loads(out)
    assert report["domain"] == "premx.test"
    verdicts = {record["id"]: record["verdict"] for record in report["records"]}
    assert verdicts["mx"] != "ok" and verdicts["autodiscover"] == "ok"


async def test_db_upgrade_then_workspace_list(empty_database_url: str, tmp_path: Path) -> None:
    env = bot_env(DATABASE_URL=empty_database_url)

    code, out, err = await run("workspace", "list", env=env, cwd=tmp_path)
    assert code == 2 and out == ""
    assert err == (
        "transition-bot: the database has no tables yet: run `transition-bot db upgrade` "
        "(or start `serve`) first.\n"
    )

    code, out, err = await run("db", "upgrade", env=env, cwd=tmp_path)
    assert (code, out, err) == (0, f"database at revision {head_revision()}\n", "")
    code, out, _ = await run("db", "current", env=env, cwd=tmp_path)
    assert (code, out) == (0, f"{head_revision()}\n")

    code, out, err = await run("workspace", "list", env=env, cwd=tmp_path)
    assert (code, out, err) == (0, "No workspaces yet.\n", "")
