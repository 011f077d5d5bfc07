"""One database for the process: the engine, its sessions, units of work, migrations.

Built at assembly (``Database(url)`` connects to nothing); ``await db.upgrade()`` brings the
schema to head on start (``transition-bot serve``); ``await db.dispose()`` at shutdown.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.config import normalize_database_url
from storage import migrate
from storage.db import make_engine, make_sessionmaker
from storage.uow import UnitOfWork


class Database:
    def __init__(self, url: str) -> None:
        self.url = normalize_database_url(url)
        self.engine: AsyncEngine = make_engine(self.url)
        self.sessionmaker: async_sessionmaker[AsyncSession] = make_sessionmaker(self.engine)

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.sessionmaker)

    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith("sqlite")

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
