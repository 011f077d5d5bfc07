"""Shutdown flushes only what a sender could take now: rows of an uninstalled workspace and
rows another replica holds are not "due" (the flush would wait for them in vain until its
budget ran out). Real database, SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.jobs.shutdown import due_now
from storage.models import OutboxStatus
from storage.uow import UnitOfWork
from storage.watch_repository import WatchRepository
from storage.workspace_state import WorkspaceStateRepository
from tests.watch.tenants import channel_for, domain_names, start_tenants


async def test_only_rows_a_sender_could_claim_are_due(
    sessionmaker: async_sessionmaker[AsyncSession], uow_factory: Callable[[], UnitOfWork]
) -> None:
    mine, theirs, gone = domain_names(3, "due")
    ids = await start_tenants(uow_factory, [mine, theirs])
    ids.update(await start_tenants(uow_factory, [gone], team="T0GONE"))
    now = datetime.now(UTC)
    async with UnitOfWork(sessionmaker) as uow:
        repo = WatchRepository(uow.session)
        for domain, leased_by in ((mine, None), (theirs, "other-replica"), (gone, None)):
            await repo.add_outbox(
                {
                    "dedupe_key": f"due:{domain}",
                    "tenant_id": ids[domain],
                    "channel_id": channel_for(domain),
                    "kind": "records-ready",
                    "text": "news",
                    "blocks": {"blocks": []},
                    "status": OutboxStatus.PENDING,
                    "attempts": 0,
                    "next_attempt_at": now - timedelta(seconds=1),
                    "created_at": now,
                    "leased_by": leased_by,
                    "lease_until": now + timedelta(seconds=30) if leased_by else None,
                }
            )
        await WorkspaceStateRepository(uow.session).mark_uninstalled("T0GONE", now)
        await uow.commit()

    assert await due_now(sessionmaker) == 1
