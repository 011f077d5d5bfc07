"""Each tenant's Microsoft Graph app registration (its secret encrypted by the caller)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.dialect import insert
from storage.models import GraphCredential


@dataclass(frozen=True)
class NewGraphCredential:
    tenant_id: int
    azure_tenant_id: str
    client_id: str
    secret_encrypted: str
    addresses: tuple[str, ...]  # the mailboxes to probe; none: all
    required_share: float
    set_by: str
    set_at: datetime


class GraphCredentialRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, tenant_id: int) -> GraphCredential | None:
        return await self.session.get(GraphCredential, tenant_id)

    async def for_tenants(self, tenant_ids: Sequence[int]) -> dict[int, GraphCredential]:
        rows = await self.session.scalars(
            select(GraphCredential).where(GraphCredential.tenant_id.in_(tenant_ids))
        )
        return {row.tenant_id: row for row in rows}

    async def put(self, credential: NewGraphCredential) -> None:
        """Insert or replace the tenant's credentials."""
        updates = {
            "azure_tenant_id": credential.azure_tenant_id,
            "client_id": credential.client_id,
            "secret_encrypted": credential.secret_encrypted,
            "addresses": {"addresses": list(credential.addresses)},
            "required_share": credential.required_share,
            "set_by": credential.set_by,
            "set_at": credential.set_at,
        }
        statement = insert(self.session)(GraphCredential).values(
            tenant_id=credential.tenant_id, **updates
        )
        await self.session.execute(
            statement.on_conflict_do_update(index_elements=["tenant_id"], set_=updates)
        )
