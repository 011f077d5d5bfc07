"""`transition-bot genkey`: print a new key for TRANSITION_SECRET_KEY."""

from __future__ import annotations

import argparse

from bot.ops.secrets import KEY_SETTING, generate_key


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--env", action="store_true", help=f"print as a .env line: {KEY_SETTING}=..."
    )


def run(args: argparse.Namespace) -> int:
    key = generate_key()
    print(f"{KEY_SETTING}={key}" if args.env else key)
    return 0
