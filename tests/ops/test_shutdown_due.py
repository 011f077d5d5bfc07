"""Shutdown flushes only what a sender could take now: rows of an uninstalled workspace and
rows another replica holds are not "due" (the flush would wait for them in vain until its
budget ran out). Real database, SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.jobs.shutdown import due_now
from storage.uow import UnitOfWork
from tests.support.outbox_rows import outbox_row
from tests.watch.tenants import channel_for, domain_names, start_tenants


async def test_only_rows_a_sender_could_claim_are_due(
    sessionmaker: async_sessionmaker[AsyncSession], uow_factory: Callable[[], UnitOfWork]
) -> None:
    mine, theirs, gone = domain_names(3, "due")
    ids = await start_tenants(uow_factory, [mine, theirs])
    ids.update(await start_tenants(uow_factory, [gone], team="T0GONE"))
    now = datetime.now(UTC)
    async with UnitOfWork(sessionmaker) as uow:
        for domain, leased_by in ((mine, None), (theirs, "other-replica"), (gone, None)):
            row = outbox_row(
                f"due:{domain}",
                ids[domain],
                channel_for(domain),
                "news",
                now,
                due=now - timedelta(seconds=1),
                leased_by=leased_by,
                lease_until=now + timedelta(seconds=30) if leased_by else None,
            )
            await uow.outbox.add_rows([row])
        await uow.workspaces.mark_uninstalled("T0GONE", now)
        await uow.commit()

    assert await due_now(sessionmaker) == 1
