"""Poll every watched tenant now, whatever its interval: the console's ``tick`` does this so
that a DNS change (MX moved) is announced by the next ``tick``, not up to a fast interval
(30 s by default) later. ``serve`` never calls it: there the intervals pace the polls."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.uow import UnitOfWork


async def make_all_due(
    sessionmaker: async_sessionmaker[AsyncSession], now: datetime | None = None
) -> None:
    """Give every tenant a poll row (new ones) and make each due now."""
    now = now or datetime.now(UTC)
    async with UnitOfWork(sessionmaker) as uow:
        await uow.polls.ensure(now)
        await uow.polls.make_all_due(now)
        await uow.commit()
