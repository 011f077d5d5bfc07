"""``transition-bot serve``: the Slack app over HTTP on aiohttp's production server."""

from __future__ import annotations

import argparse

from aiohttp import web

from bot.app.server import init
from bot.jobs.shutdown import HTTP_SECONDS
from bot.ops.config import load_settings
from bot.ops.logs import configure_logging, register_secret

# What each mode needs before it listens (checked in this order, the first missing one named).
SINGLE_TOKEN = ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET")
OAUTH = (
    "SLACK_CLIENT_ID",
    "SLACK_CLIENT_SECRET",
    "SLACK_SIGNING_SECRET",
    "SLACK_STATE_SECRET",
    "TRANSITION_SECRET_KEY",
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="0.0.0.0", help="address to listen on (default all)")
    parser.add_argument("--port", type=int, default=None, help="port (default $PORT or 3000)")


def run(args: argparse.Namespace) -> int:
    settings = load_settings()
    # Either OAuth value set means OAuth is meant: name its missing half, not SLACK_BOT_TOKEN.
    oauth = bool(settings.slack_client_id or settings.slack_client_secret)
    settings.require(*(OAUTH if oauth else SINGLE_TOKEN))
    configure_logging(settings.log_format, settings.log_level)
    for secret in (
        settings.slack_bot_token,
        settings.slack_signing_secret,
        settings.slack_client_secret,
        settings.slack_state_secret,
        settings.secret_key,
    ):
        register_secret(secret)
    web.run_app(
        init(settings),
        host=args.host,
        port=args.port or settings.port,
        access_log=None,
        print=None,
        shutdown_timeout=HTTP_SECONDS,  # then bot.jobs.shutdown finishes the work: < 10 s
    )
    return 0
