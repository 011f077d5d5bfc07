"""``transition-bot db upgrade``: bring the database (DATABASE_URL) to the newest schema."""

from __future__ import annotations

import argparse

from bot.ops.config import load_settings
from storage import database as migrations


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    up = sub.add_parser("upgrade", help="create or upgrade the database to the newest schema")
    up.add_argument(
        "--url", help="a SQLAlchemy database URL (default: DATABASE_URL, or the SQLite file)"
    )
    up.add_argument("--revision", default="head", help="target revision (default: head)")
    sub.add_parser("current", help="print the database's schema revision")


def run(args: argparse.Namespace) -> int:
    url = getattr(args, "url", None) or load_settings().database_url
    if args.db_command == "upgrade":
        migrations.upgrade_sync(url, args.revision)
        target = migrations.head_revision() if args.revision == "head" else args.revision
        print(f"database at revision {target}")
        return 0
    import asyncio

    print(asyncio.run(migrations.current_revision(url)) or "(empty database)")
    return 0
