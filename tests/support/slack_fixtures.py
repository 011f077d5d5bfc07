"""Pytest plugin: the fake Slack Web API, the bot's real HTTP server, signed requests.

Fixtures (all function-scoped):

- ``fake_slack`` -> ``FakeSlack``: the fake Web API, started on 127.0.0.1:<free port>.
- ``slack_dns_config`` -> ``DnsConfig``: where the bot's audits ask; by default the ``bind``
  fixture's servers. Override it in a test module that needs no DNS.
- ``bot_settings`` -> ``Settings``: token/secret matching the fake and the signer,
  ``SLACK_API_URL`` = the fake, DNS = ``slack_dns_config``, a SQLite file under ``tmp_path``.
  Override it (or pass ``settings=`` to the factory) to change a setting.
- ``bot_server`` -> an async factory ``await bot_server(settings=None, runtime=None,
  contexts=())`` that starts ``bot.app.server.init(...)`` on 127.0.0.1:<free port> with aiohttp's
  AppRunner and returns a ``BotServer`` (``url`` of /slack/events, ``base_url``, ``app``,
  ``runtime``, ``slack``: a ``SlackClient`` posting signed requests to it). Stopped at teardown.
- ``slack`` -> ``SlackClient`` of a default bot server: the shortcut most tests use::

      async def test_help(slack: SlackClient, fake_slack: FakeSlack) -> None:
          response = await slack.command("/transition", "help")
          assert response.status == 200 and "/transition check" in response.shown_text
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiohttp import web

from bot.app.runtime import Runtime
from bot.app.server import RUNTIME, SLACK_PATH, CleanupContext, init
from bot.dnscheck.model import DnsConfig
from bot.ops.config import Settings, load_settings
from tests.support.fake_slack import FakeSlack
from tests.support.slack_requests import DEFAULT_SIGNING_SECRET, SlackClient


@dataclass(frozen=True)
class BotServer:
    base_url: str
    app: web.Application
    runtime: Runtime
    slack: SlackClient

    @property
    def url(self) -> str:
        return self.base_url + SLACK_PATH


StartServer = Callable[..., Awaitable[BotServer]]


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    fake = FakeSlack()
    await fake.start()
    try:
        yield fake
    finally:
        await fake.close()


@pytest.fixture
def slack_dns_config(request: pytest.FixtureRequest) -> DnsConfig:
    """The audits' DNS servers: BIND on loopback (``bind`` fixture)."""
    config: DnsConfig = request.getfixturevalue("bind").dns_config()
    return config


# For tests that need no DNS: a closed port, so audits come back "unknown" at once.
NO_DNS = DnsConfig(nameservers=(("127.0.0.1", 9),), timeout=0.2, auth_port=9)


def settings_for(fake_slack: FakeSlack, dns: DnsConfig, database_url: str, **env: str) -> Settings:
    """Settings of a bot that talks to ``fake_slack``, signs as the test client does, asks
    ``dns`` and keeps its state at ``database_url``; ``env`` adds or overrides settings."""
    settings = load_settings(
        {
            "SLACK_BOT_TOKEN": fake_slack.token,
            "SLACK_SIGNING_SECRET": DEFAULT_SIGNING_SECRET,
            "SLACK_API_URL": fake_slack.api_url,
            "DATABASE_URL": database_url,
            **env,
        },
        dotenv=False,
    )
    return dataclasses.replace(settings, dns=dns)


@pytest.fixture
def bot_settings(fake_slack: FakeSlack, slack_dns_config: DnsConfig, tmp_path: Path) -> Settings:
    return settings_for(fake_slack, slack_dns_config, f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}")


@pytest.fixture
async def bot_server(fake_slack: FakeSlack, bot_settings: Settings) -> AsyncIterator[StartServer]:
    runners: list[web.AppRunner] = []

    async def start(
        settings: Settings | None = None,
        *,
        runtime: Runtime | None = None,
        contexts: Sequence[CleanupContext] = (),
    ) -> BotServer:
        settings = settings or (runtime.settings if runtime else bot_settings)
        app = init(settings, runtime=runtime, contexts=contexts)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        runners.append(runner)
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        base_url = f"http://127.0.0.1:{port}"
        client = SlackClient(
            base_url + SLACK_PATH,
            fake_slack,
            signing_secret=settings.slack_signing_secret or "",
        )
        return BotServer(base_url=base_url, app=app, runtime=app[RUNTIME], slack=client)

    try:
        yield start
    finally:
        for runner in reversed(runners):
            await runner.cleanup()


@pytest.fixture
async def slack(bot_server: StartServer) -> SlackClient:
    server = await bot_server()
    return server.slack
