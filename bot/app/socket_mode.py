"""``transition-bot socket``: the same Slack app over Socket Mode (no public URL needed).

The aiohttp application of ``transition-bot serve`` is started as well, so the database is
migrated, the scheduled jobs run and ``/healthz`` and ``/metrics`` answer on ``PORT``; only the
Slack payloads arrive over the socket instead of ``POST /slack/events``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal

from aiohttp import web
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.app.server import BOLT_APP, init
from bot.ops.config import SETTINGS, ConfigError, Settings, load_settings
from bot.ops.logs import configure_logging, register_secret

REQUIRED = ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="0.0.0.0", help="address for /healthz and /metrics")
    parser.add_argument("--port", type=int, default=None, help="port (default $PORT or 3000)")


def run(args: argparse.Namespace) -> int:
    settings = load_settings()
    settings.require(*REQUIRED)
    configure_logging(settings.log_format, settings.log_level)
    for secret in (settings.slack_bot_token, settings.slack_app_token, settings.secret_key):
        register_secret(secret)
    asyncio.run(serve_socket_mode(settings, args.host, args.port or settings.port))
    return 0


async def _check_app_token(client: AsyncWebClient, app_token: str) -> None:
    """Fail at start with one line, instead of the socket client retrying a refused token."""
    try:
        await client.apps_connections_open(app_token=app_token)
    except SlackApiError as exc:
        error, how = exc.response.get("error"), SETTINGS["SLACK_APP_TOKEN"]
        raise ConfigError(
            f"SLACK_APP_TOKEN was refused by Slack ({error}): set it to {how}."
        ) from None


async def serve_socket_mode(
    settings: Settings, host: str, port: int, stop: asyncio.Event | None = None
) -> None:
    """Run until ``stop`` is set (by default: until SIGTERM or SIGINT)."""
    # Socket Mode payloads are not signed (the socket is authenticated with the app token),
    # so Bolt's request verification does not apply to them.
    app = init(settings)
    await _check_app_token(app[BOLT_APP].client, settings.slack_app_token or "")
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()  # runs the cleanup contexts: migrations, scheduler
    await web.TCPSite(runner, host, port).start()
    handler = AsyncSocketModeHandler(app[BOLT_APP], settings.slack_app_token)
    if stop is None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
    try:
        await handler.connect_async()  # the client reconnects a dead connection itself
        await stop.wait()
    finally:
        await handler.close_async()
        await runner.cleanup()
