"""``transition-bot socket``: the same Slack app over Socket Mode (no public URL needed)."""

from __future__ import annotations

import argparse
import asyncio

from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler

from bot.app import build_app
from bot.config import Settings, load_settings
from bot.logs import configure_logging, register_secret
from bot.runtime import Runtime


def add_arguments(parser: argparse.ArgumentParser) -> None:
    pass


def run(args: argparse.Namespace) -> int:
    settings = load_settings()
    settings.require("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN")
    configure_logging(settings.log_format, settings.log_level)
    for secret in (settings.slack_bot_token, settings.slack_app_token):
        register_secret(secret)
    asyncio.run(serve_socket_mode(settings))
    return 0


async def serve_socket_mode(settings: Settings) -> None:
    # Socket Mode payloads are not signed (the socket is authenticated with the app token),
    # so Bolt's request verification does not apply to them.
    app = build_app(Runtime(settings=settings))
    handler = AsyncSocketModeHandler(app, settings.slack_app_token)
    await handler.start_async()
