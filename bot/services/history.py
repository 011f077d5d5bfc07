"""The audit log of a tenant, newest first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.services.common import Caller, tenant_here
from storage.uow import UnitOfWork


@dataclass(frozen=True)
class HistoryEntry:
    at: datetime
    actor_id: str
    action: str
    details: dict[str, Any]


async def history(uow: UnitOfWork, caller: Caller, limit: int = 30) -> list[HistoryEntry]:
    async with uow:
        tenant = await tenant_here(uow, caller)
        events = await uow.audit.for_tenant(tenant.id, limit)
        return [HistoryEntry(e.at, e.actor_id, e.action, dict(e.details or {})) for e in events]
