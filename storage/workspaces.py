"""Workspaces: found or created by team id, installed or uninstalled, and deleted with all
their data.

The background jobs' claim queries filter with ``active_tenant_ids()`` so an uninstalled
workspace's tenants are neither polled nor posted to.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.dialect import insert_ignoring_duplicates, rowcount
from storage.models import Tenant, Workspace, slack_installations, utcnow


def active_tenant_ids() -> Select[Any]:
    """``SELECT tenants.id`` of workspaces that are installed (for ``… IN (…)`` filters)."""
    return (
        select(Tenant.id)
        .join(Workspace, Workspace.id == Tenant.workspace_id)
        .where(Workspace.uninstalled_at.is_(None))
    )


@dataclass(frozen=True)
class WorkspaceSummary:
    team_id: str
    enterprise_id: str
    tenants: int
    uninstalled_at: datetime | None


@dataclass(frozen=True)
class TenantWorkspace:
    team_id: str
    enterprise_id: str
    uninstalled_at: datetime | None


class WorkspaceRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, team_id: str) -> Workspace | None:
        """By team id alone: Slack team ids are unique, and payloads carry the enterprise id
        inconsistently (commands as ``enterprise_id``, clicks as ``enterprise.id`` or null)."""
        return await self.session.scalar(
            select(Workspace).where(Workspace.team_id == team_id).order_by(Workspace.id).limit(1)
        )

    async def get_or_create(self, team_id: str, enterprise_id: str = "") -> Workspace:
        existing = await self.get(team_id)
        if existing is not None:
            return existing
        await insert_ignoring_duplicates(
            self.session,
            Workspace.__table__,  # type: ignore[arg-type]
            {"team_id": team_id, "enterprise_id": enterprise_id, "created_at": utcnow()},
        )
        workspace = await self.get(team_id)
        assert workspace is not None
        return workspace

    async def mark_uninstalled(self, team_id: str, at: datetime) -> int:
        """Stop the workspace's background work; how many workspace rows it touched."""
        result = await self.session.execute(
            update(Workspace)
            .where(Workspace.team_id == team_id, Workspace.uninstalled_at.is_(None))
            .values(uninstalled_at=at)
        )
        return rowcount(result)

    async def mark_installed(self, team_id: str) -> None:
        await self.session.execute(
            update(Workspace).where(Workspace.team_id == team_id).values(uninstalled_at=None)
        )

    async def uninstalled_at(self, team_id: str) -> datetime | None:
        return await self.session.scalar(
            select(Workspace.uninstalled_at)
            .where(Workspace.team_id == team_id)
            .order_by(Workspace.id)
            .limit(1)
        )

    async def of_tenant(self, tenant_id: int) -> TenantWorkspace | None:
        row = (
            await self.session.execute(
                select(Workspace.team_id, Workspace.enterprise_id, Workspace.uninstalled_at)
                .join(Tenant, Tenant.workspace_id == Workspace.id)
                .where(Tenant.id == tenant_id)
            )
        ).first()
        return None if row is None else TenantWorkspace(row[0], row[1], row[2])

    async def overview(self) -> list[WorkspaceSummary]:
        rows = await self.session.execute(
            select(
                Workspace.team_id,
                Workspace.enterprise_id,
                func.count(Tenant.id),
                Workspace.uninstalled_at,
            )
            .outerjoin(Tenant, Tenant.workspace_id == Workspace.id)
            .group_by(Workspace.id)
            .order_by(Workspace.team_id)
        )
        found = [WorkspaceSummary(r[0], r[1], int(r[2]), r[3]) for r in rows]
        # Installed, no tenant started yet: no workspaces row, but an installation of its own.
        installs = slack_installations.c
        installed_only = await self.session.execute(
            select(installs.team_id, func.coalesce(func.max(installs.enterprise_id), ""))
            .where(
                installs.team_id.is_not(None), installs.team_id.not_in(select(Workspace.team_id))
            )
            .group_by(installs.team_id)
        )
        found += [WorkspaceSummary(r[0], r[1], 0, None) for r in installed_only]
        return sorted(found, key=lambda w: w.team_id)

    async def count_tenants(self, team_id: str) -> int:
        return int(
            await self.session.scalar(
                select(func.count())
                .select_from(Tenant)
                .join(Workspace, Workspace.id == Tenant.workspace_id)
                .where(Workspace.team_id == team_id)
            )
            or 0
        )

    async def delete(self, team_id: str) -> int:
        """Delete the workspace rows of ``team_id``; tenants and all under them cascade."""
        result = await self.session.execute(delete(Workspace).where(Workspace.team_id == team_id))
        return rowcount(result)
