"""The per-tenant cache of Graph's DNS records for each domain (storage.models.truth)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.dialect import insert
from storage.models import TenantDnsTruth


class TruthRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def for_tenant(self, tenant_id: int) -> dict[str, tuple[datetime, dict[str, Any]]]:
        """domain -> (fetched_at, data)."""
        rows = await self.session.scalars(
            select(TenantDnsTruth).where(TenantDnsTruth.tenant_id == tenant_id)
        )
        return {row.domain: (row.fetched_at, row.data) for row in rows}

    async def for_tenants(
        self, tenant_ids: Sequence[int]
    ) -> dict[int, dict[str, tuple[datetime, dict[str, Any]]]]:
        """tenant id -> domain -> (fetched_at, data), for a batch of tenants in one query."""
        rows = await self.session.scalars(
            select(TenantDnsTruth).where(TenantDnsTruth.tenant_id.in_(tenant_ids))
        )
        found: dict[int, dict[str, tuple[datetime, dict[str, Any]]]] = {}
        for row in rows:
            found.setdefault(row.tenant_id, {})[row.domain] = (row.fetched_at, row.data)
        return found

    async def put(
        self, tenant_id: int, domain: str, data: dict[str, Any], fetched_at: datetime
    ) -> None:
        """Insert or replace one domain's entry (two replicas refreshing at once: last wins)."""
        statement = insert(self.session)(TenantDnsTruth).values(
            tenant_id=tenant_id, domain=domain, data=data, fetched_at=fetched_at
        )
        await self.session.execute(
            statement.on_conflict_do_update(
                index_elements=["tenant_id", "domain"],
                set_={"data": data, "fetched_at": fetched_at},
            )
        )
