"""What the watch last saw of each tenant, written with a version check."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.dialect import insert_many_ignoring_duplicates, rowcount
from storage.models import WatchObservation


@dataclass(frozen=True)
class ObservationWrite:
    """A tenant's new observation, to be written only over ``prev_version`` (0: none yet)."""

    tenant_id: int
    prev_version: int
    version: int
    data: dict[str, Any]
    observed_at: datetime


class ObservationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def for_tenants(self, tenant_ids: Sequence[int]) -> dict[int, tuple[int, dict[str, Any]]]:
        rows = await self.session.execute(
            select(
                WatchObservation.tenant_id, WatchObservation.version, WatchObservation.data
            ).where(WatchObservation.tenant_id.in_(tenant_ids))
        )
        return {tenant: (version, dict(data)) for tenant, version, data in rows}

    async def store(self, writes: Sequence[ObservationWrite]) -> set[int]:
        """Write each observation only over its ``prev_version``: of replicas that polled the
        same tenant from the same starting point, the first to commit wins. Returns the
        tenants whose observation was written. First observations go in one statement."""
        first = [
            {
                "tenant_id": w.tenant_id,
                "version": w.version,
                "data": w.data,
                "observed_at": w.observed_at,
            }
            for w in writes
            if w.prev_version == 0
        ]
        written: set[int] = set(
            await insert_many_ignoring_duplicates(
                self.session, WatchObservation, first, WatchObservation.tenant_id
            )
        )
        for w in writes:
            if w.prev_version == 0:
                continue
            result = await self.session.execute(
                update(WatchObservation)
                .where(
                    WatchObservation.tenant_id == w.tenant_id,
                    WatchObservation.version == w.prev_version,
                )
                .values(version=w.version, data=w.data, observed_at=w.observed_at)
            )
            if rowcount(result):
                written.add(w.tenant_id)
        return written
