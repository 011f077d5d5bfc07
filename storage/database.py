"""One database for the process: the engine, its sessions, units of work, migrations.

Built at assembly (``Database(url)`` connects to nothing); ``await db.upgrade()`` brings the
schema to head on start (``transition-bot serve``); ``await db.dispose()`` at shutdown.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.config import normalize_database_url
from storage import migrate
from storage.db import make_engine, make_sessionmaker
from storage.health import Reachability, is_unreachable
from storage.uow import UnitOfWork


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
        await migrate.upgrade(self.url)

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
