"""Database fixtures (a pytest plugin): every storage test runs on SQLite and on PostgreSQL.

PostgreSQL is the server ``TEST_DATABASE_URL`` names, or else a throwaway cluster this session
starts from the machine's binaries (``tests/support/postgres_cluster.py``; one per xdist worker).
The schema is loaded once per session with ``alembic upgrade head`` into a template (a SQLite file,
or a PostgreSQL ``TEMPLATE`` database) and each test gets its own copy — pytest-postgresql's
janitor pattern. When neither server can be had, the tests fail with one line saying what to
install: they never skip.

Fixtures:
- ``database_url``: a migrated, empty database of its own for this test (async SQLAlchemy URL).
- ``empty_database_url``: an empty database with no tables (for migration tests).
- ``sessionmaker``: an ``async_sessionmaker`` on ``database_url`` (engine disposed afterwards).
- ``uow_factory``: ``() -> UnitOfWork`` on that sessionmaker.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.database import make_engine, make_sessionmaker, upgrade
from storage.uow import UnitOfWork
from tests.support.postgres_cluster import ClusterUnavailable, start_cluster

PG_ENV = "TEST_DATABASE_URL"
BACKENDS = ["sqlite", "postgresql"]


class PostgresAdmin:
    """CREATE/DROP DATABASE on the server of ``TEST_DATABASE_URL`` (outside any transaction)."""

    def __init__(self, url: str) -> None:
        parsed = make_url(url)
        self._url = parsed
        self.admin_dsn = parsed.set(drivername="postgresql").render_as_string(hide_password=False)

    def url_for(self, database: str, *, driver: str = "postgresql+asyncpg") -> str:
        return self._url.set(drivername=driver, database=database).render_as_string(
            hide_password=False
        )

    async def _execute(self, *statements: str) -> None:
        try:
            connection = await asyncpg.connect(self.admin_dsn, timeout=10)
        except (OSError, asyncpg.PostgresError) as exc:
            raise RuntimeError(f"PostgreSQL at {self.admin_dsn} does not answer: {exc}") from exc
        try:
            for statement in statements:
                await connection.execute(statement)
        finally:
            await connection.close()

    def execute(self, *statements: str) -> None:
        asyncio.run(self._execute(*statements))


def _new_name(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("db-template") / "template.db"
    asyncio.run(upgrade(f"sqlite+aiosqlite:///{path}"))
    return path


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    """A PostgreSQL server for this session: ``TEST_DATABASE_URL``, or a cluster we start."""
    url = os.environ.get(PG_ENV)
    if url:
        yield url
        return
    try:
        cluster = start_cluster()
    except ClusterUnavailable as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        yield cluster.url
    finally:
        cluster.destroy()


@pytest.fixture(scope="session")
def _postgres(postgres_server_url: str) -> Iterator[tuple[PostgresAdmin, str]]:
    admin = PostgresAdmin(postgres_server_url)
    template = _new_name("transition_tpl")
    admin.execute(f'CREATE DATABASE "{template}"')
    try:
        asyncio.run(upgrade(admin.url_for(template)))
        admin.execute(f'ALTER DATABASE "{template}" WITH IS_TEMPLATE true')
        yield admin, template
    finally:
        admin.execute(
            f'ALTER DATABASE "{template}" WITH IS_TEMPLATE false',
            f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)',
        )


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def database_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if backend == "sqlite":
        template: Path = request.getfixturevalue("_sqlite_template")
        path = tmp_path / "bot.db"
        shutil.copyfile(template, path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    admin, template_name = request.getfixturevalue("_postgres")
    name = _new_name("transition_test")
    admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template_name}"')
    try:
        yield admin.url_for(name)
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def empty_database_url(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
        return
    admin = PostgresAdmin(request.getfixturevalue("postgres_server_url"))
    name = _new_name("transition_empty")
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin.url_for(name)
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
async def sessionmaker(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = make_engine(database_url)
    try:
        yield make_sessionmaker(engine)
    finally:
        await engine.dispose()


@pytest.fixture
def uow_factory(sessionmaker: async_sessionmaker[AsyncSession]) -> Callable[[], UnitOfWork]:
    return lambda: UnitOfWork(sessionmaker)
