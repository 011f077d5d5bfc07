"""The `transition-bot` console script: one subcommand per entry point.

Each subcommand lives in its own module exposing ``add_arguments(parser)`` and
``run(args) -> int``. The table below holds only names and help strings; a subcommand's module
is imported by its loader (a plain local import) when that subcommand is on the command line,
so ``transition-bot --help`` imports none of them, and ``check`` does not import the Slack app.
Adding a command is one loader and one row.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from bot.ops.config import ConfigError


class Command(Protocol):
    """What a subcommand's module provides."""

    def add_arguments(self, parser: argparse.ArgumentParser) -> None: ...

    def run(self, args: argparse.Namespace) -> int: ...


def _check() -> Command:
    from bot.dnscheck import cli

    return cli


def _serve() -> Command:
    from bot.cli import serve

    return serve


def _socket() -> Command:
    from bot.app import socket_mode

    return socket_mode


def _db() -> Command:
    from bot.cli import db as db_cli

    return db_cli


def _workspace() -> Command:
    from bot.cli import workspace as workspace_cli

    return workspace_cli


def _genkey() -> Command:
    from bot.cli import genkey

    return genkey


def _console() -> Command:
    from bot.console import cli

    return cli


@dataclass(frozen=True)
class Subcommand:
    help: str
    load: Callable[[], Command]


SUBCOMMANDS: dict[str, Subcommand] = {
    "check": Subcommand("audit a domain's DNS for Microsoft 365", _check),
    "serve": Subcommand("run the Slack app over HTTP (Events API)", _serve),
    "socket": Subcommand("run the Slack app over Socket Mode", _socket),
    "db": Subcommand("database maintenance (upgrade)", _db),
    "workspace": Subcommand("list workspaces, or delete one's tenants and install", _workspace),
    "genkey": Subcommand("print a new TRANSITION_SECRET_KEY for stored secrets", _genkey),
    "console": Subcommand("try the bot in a terminal: a local chat over the same app", _console),
}


def build_parser(argv: Sequence[str] = ()) -> argparse.ArgumentParser:
    """The parser for ``argv``: every subcommand is listed, and the one named in ``argv`` (the
    first word that is not an option) gets its own options, from its module."""
    chosen = next((word for word in argv if not word.startswith("-")), None)
    parser = argparse.ArgumentParser(
        prog="transition-bot",
        description="Run a mail cutover to Microsoft 365 as a shared runbook in Slack.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, subcommand in SUBCOMMANDS.items():
        sub_parser = sub.add_parser(name, help=subcommand.help, description=subcommand.help)
        if name == chosen:
            command = subcommand.load()
            command.add_arguments(sub_parser)
            sub_parser.set_defaults(_run=command.run)
    return parser


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    return build_parser(argv).parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        return int(args._run(args))
    except ConfigError as exc:
        print(f"transition-bot: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
