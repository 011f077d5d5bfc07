"""One database for the process: the URL, the engine, its sessions, units of work, migrations.

Nothing here connects at import: ``Database(url)`` is built at assembly; ``await db.upgrade()``
brings the schema to head on start (``transition-bot serve``); ``await db.dispose()`` at
shutdown. Migrations run programmatically from this package's ``migrations`` folder, so they
work from an installed wheel and from any working directory.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from alembic import command
from alembic.config import Config
from sqlalchemy import event, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection, ExceptionContext, make_url
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

# --- How long PostgreSQL may take: every bound on the database lives here ---------------------
# A database that hangs (a lock another session holds, a partition mid-transaction, a stopped
# server whose socket accepts and never answers) must end like an outage, because Slack shows an
# error unless a command or click is answered within 3 s of sending it, and Bolt gives the
# listener 3 s from dispatch to ack:
# - a unit of work from ``Database.uow()`` (what every request path uses, and the jobs' small
#   ones; Bolt's installation reads too: ``answered_within``) ends within UNIT_OF_WORK_SECONDS,
#   answered or not (an asyncio deadline: it holds for a socket that never answers). The rest of
#   the 3 s is Slack's network, Bolt's middleware and the apology. Running out raises
#   ``NoAnswer``: "unreachable" to the user, the jobs' backoff and /healthz alike;
# - a lock wait ends on the server first, cleanly (the connection stays usable), before that
#   deadline: LOCK_TIMEOUT_MS;
# - a connect to an address that drops packets (a failover's old one) gives up after
#   CONNECT_TIMEOUT_SECONDS;
# - the jobs' own units of work (the poller's, the sender's) have no deadline of their own (a
#   batch may be large): the server ends one statement after STATEMENT_TIMEOUT_MS, and the
#   driver gives up on a server that says nothing at all a second later (COMMAND_TIMEOUT_SECONDS;
#   the server's timeout normally comes first and keeps the connection);
# - a session whose client went away mid-transaction (a partition, a killed replica) gives its
#   locks back after IDLE_IN_TRANSACTION_MS (no transaction waits on the network: a token
#   refresh asks Slack outside any, bot.slack.install).
# Migrations run without these (``upgrade``): a replica waits for another's migration, and one
# statement may rewrite a table.
UNIT_OF_WORK_SECONDS = 2.0
LOCK_TIMEOUT_MS = 1_500
CONNECT_TIMEOUT_SECONDS = 2.0
STATEMENT_TIMEOUT_MS = 5_000
COMMAND_TIMEOUT_SECONDS = STATEMENT_TIMEOUT_MS / 1000 + 1
IDLE_IN_TRANSACTION_MS = 300_000
# SQLSTATEs of our own bounds running out on the server.
_TIMED_OUT_STATES = {"55P03": "lock_timeout", "57014": "statement_timeout"}


class NoAnswer(sa_exc.TimeoutError):
    """The database did not answer within its bound: hung, so to its callers unreachable
    (``storage.health.is_unreachable`` takes SQLAlchemy's timeouts as such)."""


def is_sqlite(url: str) -> bool:
    return normalize_database_url(url).startswith("sqlite")


def make_engine(url: str, *, bounded: bool = True, **kwargs: Any) -> AsyncEngine:
    """An async engine for ``url`` (postgres://, postgresql://, sqlite:/// are accepted).

    On PostgreSQL (asyncpg) every connection carries the bounds above (``bounded=False``:
    only the connect timeout, for migrations).

    On SQLite: WAL, foreign keys on, a busy timeout, and every transaction begins IMMEDIATE, so
    two concurrent writers queue on the lock instead of one failing when it upgrades its read
    lock (SQLAlchemy's documented recipe for pysqlite/aiosqlite transaction control); one that
    set ``READ_ONLY`` begins DEFERRED.
    """
    url = normalize_database_url(url)
    if not url.startswith("sqlite"):
        kwargs.setdefault("pool_pre_ping", True)  # a connection the restart closed is replaced
        asyncpg = make_url(url).get_driver_name() == "asyncpg"
        kwargs.setdefault("connect_args", _asyncpg_bounds(bounded) if asyncpg else {})
        engine = create_async_engine(url, **kwargs)
        if asyncpg:
            _end_hung_connections(engine)
        return engine

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


def _asyncpg_bounds(bounded: bool) -> dict[str, Any]:
    """asyncpg's connect arguments: the server's own timeouts go in the startup packet (no
    round trip), the driver's ``command_timeout`` covers a server that answers nothing."""
    if not bounded:
        return {"timeout": CONNECT_TIMEOUT_SECONDS}
    return {
        "timeout": CONNECT_TIMEOUT_SECONDS,
        "command_timeout": COMMAND_TIMEOUT_SECONDS,
        "server_settings": {
            "lock_timeout": str(LOCK_TIMEOUT_MS),
            "statement_timeout": str(STATEMENT_TIMEOUT_MS),
            "idle_in_transaction_session_timeout": str(IDLE_IN_TRANSACTION_MS),
        },
    }


def _end_hung_connections(engine: AsyncEngine) -> None:
    """A bound that ran out reads as ``NoAnswer``, and a connection given up on is dropped at
    once.

    SQLAlchemy closes an invalidated asyncpg connection gracefully first (up to 2 s, after
    waiting for the cancel request of a timed-out query): on a server that never answers that
    would add its 2 s to the deadline that just ran out. An invalidated connection is of no use,
    so it is terminated (the socket closed) before SQLAlchemy's close, which then has nothing
    to wait for."""

    @event.listens_for(engine.sync_engine, "invalidate")
    def _terminate(dbapi_connection: Any, _record: Any, _error: BaseException | None) -> None:
        driver_connection = getattr(dbapi_connection, "driver_connection", None)
        if driver_connection is not None:
            driver_connection.terminate()

    @event.listens_for(engine.sync_engine, "handle_error")
    def _timed_out(context: ExceptionContext) -> BaseException | None:
        bound = _TIMED_OUT_STATES.get(str(getattr(context.original_exception, "sqlstate", "")))
        return None if bound is None else NoAnswer(f"the database did not answer ({bound})")


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


@asynccontextmanager
async def answered_within(seconds: float = UNIT_OF_WORK_SECONDS) -> AsyncIterator[None]:
    """Database work that must end within ``seconds`` whatever the server does (an asyncio
    deadline: it holds for a socket that never answers); running out raises ``NoAnswer``."""
    deadline = asyncio.timeout(seconds)
    try:
        async with deadline:
            yield
    except TimeoutError as error:
        if not deadline.expired():
            raise  # a timeout of the work's own
        raise NoAnswer(f"the database did not answer within {seconds:g} s") from error


class BoundedUnitOfWork(UnitOfWork):
    """A ``UnitOfWork`` within ``answered_within(seconds)`` from entering to leaving it
    (rollback and close included)."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], seconds: float) -> None:
        super().__init__(sessionmaker)
        self._seconds = seconds
        self._bound: AbstractAsyncContextManager[None] | None = None

    async def __aenter__(self) -> Self:
        self._bound = answered_within(self._seconds)
        await self._bound.__aenter__()
        await super().__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        bound, self._bound = self._bound, None
        assert bound is not None, "left a unit of work that was not entered"
        try:
            await super().__aexit__(exc_type, exc, tb)
        except BaseException as error:  # the rollback or close ran into the deadline
            await bound.__aexit__(type(error), error, error.__traceback__)
            raise
        await bound.__aexit__(exc_type, exc, tb)


class Database:
    def __init__(self, url: str) -> None:
        self.url = normalize_database_url(url)
        self.engine: AsyncEngine = make_engine(self.url)
        self.sessionmaker: async_sessionmaker[AsyncSession] = make_sessionmaker(self.engine)
        self.reachability = Reachability()  # what the jobs know of an outage (not /healthz)

    def uow(self) -> UnitOfWork:
        """A unit of work; on PostgreSQL one that ends within ``UNIT_OF_WORK_SECONDS`` whatever
        the server does. (SQLite is a local file: its only wait is for the write lock, bounded by
        its busy timeout, and cancelling aiosqlite's thread mid-statement would gain nothing.)"""
        if self.is_sqlite:
            return UnitOfWork(self.sessionmaker)
        return BoundedUnitOfWork(self.sessionmaker, UNIT_OF_WORK_SECONDS)

    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith("sqlite")

    async def ping(self, seconds: float = 1.0) -> bool:
        """``SELECT 1`` within ``seconds``: whether the server answers at all (``/healthz``).

        It leaves ``reachability`` alone: that is the jobs' state, and a bare ``SELECT 1`` does
        not prove their path works. With a table locked (a migration, a stuck transaction) the
        probe answers while every job runs into ``lock_timeout``; a probe that reset the jobs'
        backoff made their log alternate "unreachable"/"back" once per probe. The jobs find the
        database back themselves, within their backoff's cap (``Reachability.max_wait``).

        Such a lock-only hang leaves the replica ready, on purpose: every replica shares the
        one database, so taking them all out of the Service would turn the message each request
        gets within Slack's 3 s (storage.database's bounds, handlers.guard) into a connection
        error at Slack's edge, and nothing a restart or another replica could fix."""
        try:
            async with asyncio.timeout(seconds), self.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except TimeoutError:
            return False
        except Exception as error:
            if not is_unreachable(error):
                raise
            return False
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
    engine = make_engine(url, bounded=False)
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
