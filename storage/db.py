"""Engines and sessions. Nothing here connects at import: the app builds them at start-up."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from bot.config import normalize_database_url

SQLITE_BUSY_TIMEOUT_MS = 30_000
# An execution option for a transaction that only reads: on SQLite it begins DEFERRED, so in WAL
# mode it neither waits for nor holds the one write lock.
READ_ONLY = "transition_read_only"
# A connection attempt to a server that went away (a failover's old address that drops
# packets) gives up after this, so a Slack request is still answered within Slack's 3 s.
CONNECT_TIMEOUT_SECONDS = 2.0


def is_sqlite(url: str) -> bool:
    return normalize_database_url(url).startswith("sqlite")


def make_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An async engine for ``url`` (postgres://, postgresql://, sqlite:/// are accepted).

    On SQLite: WAL, foreign keys on, a busy timeout, and every transaction begins IMMEDIATE, so
    two concurrent writers queue on the lock instead of one failing when it upgrades its read
    lock (SQLAlchemy's documented recipe for pysqlite/aiosqlite transaction control); one that
    set ``READ_ONLY`` begins DEFERRED.
    """
    url = normalize_database_url(url)
    if not url.startswith("sqlite"):
        kwargs.setdefault("pool_pre_ping", True)  # a connection the restart closed is replaced
        kwargs.setdefault("connect_args", {"timeout": CONNECT_TIMEOUT_SECONDS})
        return create_async_engine(url, **kwargs)

    connect_args = kwargs.setdefault("connect_args", {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
    busy_timeout_ms = int(connect_args.get("timeout", SQLITE_BUSY_TIMEOUT_MS / 1000) * 1000)
    engine = create_async_engine(url, **kwargs)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        read_only = connection.get_execution_options().get(READ_ONLY, False)
        connection.exec_driver_sql("BEGIN DEFERRED" if read_only else "BEGIN IMMEDIATE")

    return engine


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
