"""``transition-bot console``: try the bot in a terminal, without Slack."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import hashlib
import os
import re
import sys
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from bot.console.payloads import CHANNEL_ID, DEFAULT_CHANNEL, DEFAULT_USER, USER_ID
from bot.ops.config import ConfigError, Settings, load_settings, parse_hostport
from bot.ops.logs import configure_logging
from storage.database_url import normalize_database_url


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--database",
        metavar="URL",
        help="SQLAlchemy URL of the state (default $DATABASE_URL or ./transition-bot.db)",
    )
    parser.add_argument(
        "--nameserver",
        metavar="IP[:PORT]",
        action="append",
        default=[],
        help="resolver for the DNS audits (repeatable; default $TRANSITION_NAMESERVERS or "
        "the system's)",
    )
    parser.add_argument(
        "--dns-port",
        metavar="N",
        type=int,
        help="port of the authoritative servers (default 53; a local lab's BIND)",
    )
    parser.add_argument(
        "--user", default=DEFAULT_USER, help=f"acting user (default {DEFAULT_USER})"
    )
    parser.add_argument(
        "--channel", default=DEFAULT_CHANNEL, help=f"channel (default {DEFAULT_CHANNEL})"
    )
    parser.add_argument(
        "--color",
        choices=("auto", "always", "never"),
        default="auto",
        help="ANSI styles (default: on a terminal, unless NO_COLOR is set)",
    )


def console_base_settings(args: argparse.Namespace) -> Settings:
    """Settings from the environment with the command line's overrides applied."""
    settings = load_settings()
    dns = settings.dns
    if args.nameserver:
        dns = dataclasses.replace(
            dns, nameservers=tuple(parse_hostport(n) for n in args.nameserver)
        )
    if args.dns_port is not None:
        if not 0 < args.dns_port < 65536:
            raise ConfigError(f"--dns-port {args.dns_port} is not a port number.")
        dns = dataclasses.replace(dns, auth_port=args.dns_port)
    database_url = normalize_database_url(args.database or settings.database_url)
    try:
        make_url(database_url)
    except ArgumentError:
        raise ConfigError(
            f"{database_url!r} is not a database URL (e.g. sqlite:///transition-bot.db)."
        ) from None
    return dataclasses.replace(settings, dns=dns, database_url=database_url)


def _slack_id(pattern: re.Pattern[str], text: str, option: str) -> str:
    match = pattern.match(text.strip())
    if match is None:
        raise ConfigError(f"{option} {text!r} is not a Slack id (like {option[2].upper()}123).")
    return match.group(1)


def _ansi(choice: str) -> bool:
    if choice != "auto":
        return choice == "always"
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")


def history_file(database_url: str) -> Path | None:
    """Where the console's Slack keeps channel messages between sessions: beside a SQLite
    file, else in the working directory, one file per database (none for a memory database)."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        if not url.database or url.database == ":memory:":
            return None
        database = Path(url.database)
        return database.with_name(database.name + "-console.json")
    digest = hashlib.sha256(database_url.encode()).hexdigest()[:12]
    return Path(f"transition-bot-console-{digest}.json")


async def _main(settings: Settings, user: str, channel: str, ansi: bool) -> int:
    # Imported here: building the parser for any subcommand must not import the whole app.
    from bot.console.jobs import tick
    from bot.console.render import Style
    from bot.console.session import ConsoleSession
    from bot.console.shell import Shell, make_emit, make_reader

    emit = make_emit(sys.stdout)
    style = Style(ansi=ansi)
    interactive = sys.stdin.isatty()
    history = history_file(settings.database_url)
    async with ConsoleSession(
        settings, emit, style, user=user, channel=channel, history=history
    ) as session:
        read = make_reader(sys.stdin, sys.stdout, interactive=interactive)
        return await Shell(session, read, tick=tick).run()


def run(args: argparse.Namespace) -> int:
    settings = console_base_settings(args)
    # The console's own output is the conversation; logs go to stderr, warnings and up only.
    configure_logging(settings.log_format, os.environ.get("LOG_LEVEL", "WARNING").upper())
    user = _slack_id(USER_ID, args.user, "--user")
    channel = _slack_id(CHANNEL_ID, args.channel, "--channel")
    return asyncio.run(_main(settings, user, channel, _ansi(args.color)))
