"""One database for the process: the URL, the engine, its sessions, units of work, migrations.

Nothing here connects at import: ``Database(url)`` is built at assembly; ``await db.upgrade()``
brings the schema to head on start (``transition-bot serve``); ``await db.dispose()`` at
shutdown. Migrations run programmatically from this package's ``migrations`` folder, so they
work from an installed wheel and from any working directory.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from storage.database_url import normalize_database_url
from storage.health import Reachability, is_unreachable
from storage.uow import UnitOfWork

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


class Database:
    def __init__(self, url: str) -> None:
        self.url = normalize_database_url(url)
        self.engine: AsyncEngine = make_engine(self.url)
        self.sessionmaker: async_sessionmaker[AsyncSession] = make_sessionmaker(self.engine)
        self.reachability = Reachability()  # what the jobs and /healthz know of an outage

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.sessionmaker)

    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith("sqlite")

    async def ping(self, seconds: float = 1.0) -> bool:
        """``SELECT 1`` within ``seconds``; the outcome updates ``reachability`` (so a probe
        that finds the database back lets the jobs resume at once)."""
        try:
            async with asyncio.timeout(seconds), self.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except TimeoutError as error:
            self.reachability.failed(error)
            return False
        except Exception as error:
            if not is_unreachable(error):
                raise
            self.reachability.failed(error)
            return False
        self.reachability.succeeded()
        return True

    async def upgrade(self) -> None:
        await upgrade(self.url)

    async def dispose(self) -> None:
        await self.engine.dispose()

    def cleanup_context(self) -> Callable[[Any], AsyncIterator[None]]:
        """An aiohttp ``cleanup_ctx``: migrate to head before serving, dispose at shutdown."""

        async def database_lifecycle(_app: Any) -> AsyncIterator[None]:
            await self.upgrade()
            try:
                yield
            finally:
                await self.dispose()

        return database_lifecycle


# --- migrations ----------------------------------------------------------------------------

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# Several replicas starting at once on PostgreSQL: one migrates, the others wait for it.
_PG_LOCK_KEY = 0x7472616E  # "tran"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # "%" is ConfigParser's interpolation character; URLs may contain it (encoded passwords).
    config.set_main_option("sqlalchemy.url", normalize_database_url(url).replace("%", "%%"))
    return config


def _upgrade(connection: Connection, config: Config, revision: str) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


async def upgrade(url: str, revision: str = "head") -> None:
    """Create or upgrade the database at ``url`` to ``revision`` (default: the newest)."""
    config = alembic_config(url)
    engine = make_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_upgrade, config, revision)
    finally:
        await engine.dispose()


def upgrade_sync(url: str, revision: str = "head") -> None:
    """``upgrade`` for callers without an event loop (the CLI)."""
    asyncio.run(upgrade(url, revision))


def _current(connection: Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()


async def current_revision(url: str) -> str | None:
    engine = make_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(_current)
    finally:
        await engine.dispose()


def head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
