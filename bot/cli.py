"""The `transition-bot` console script: one subcommand per entry point.

Each subcommand lives in its own module exposing ``add_arguments(parser)`` and
``run(args) -> int``; this file only wires them, so adding a command is one line here.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from bot.config import ConfigError

# subcommand -> (module, one-line help)
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "check": ("bot.dnscheck.cli", "audit a domain's DNS for Microsoft 365"),
    "serve": ("bot.serve", "run the Slack app over HTTP (Events API)"),
    "socket": ("bot.socket_mode", "run the Slack app over Socket Mode"),
    "db": ("storage.cli", "database maintenance (upgrade)"),
    "workspace": ("bot.workspace_cli", "list workspaces, or delete one's tenants and install"),
    "genkey": ("bot.genkey", "print a new TRANSITION_SECRET_KEY for stored secrets"),
    "console": ("bot.console.cli", "try the bot in a terminal: a local chat over the same app"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="transition-bot",
        description="Run a mail cutover to Microsoft 365 as a shared runbook in Slack.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (module_name, help_text) in SUBCOMMANDS.items():
        module = importlib.import_module(module_name)
        sub_parser = sub.add_parser(name, help=help_text, description=help_text)
        module.add_arguments(sub_parser)
        sub_parser.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args._run(args))
    except ConfigError as exc:
        print(f"transition-bot: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
