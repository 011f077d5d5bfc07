"""Repositories: the queries the services need, one class per aggregate, reached through the UoW.

Tenant lookups always take the workspace id, so a caller from another workspace finds nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Table, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    Acknowledgement,
    ApprovalRequest,
    ApprovalVote,
    AuditEvent,
    Reminder,
    SlackMessage,
    StepState,
    Tenant,
    Workspace,
    utcnow,
)
from storage.workspace_state import active_tenant_ids

# Ids are INTEGER columns: a number beyond them (from a forged button value) exists nowhere,
# and asking for it would make the driver raise instead of finding nothing.
MAX_ID = 2**31 - 1


def storable(row_id: int) -> bool:
    return 0 < row_id <= MAX_ID


async def insert_ignoring_duplicates(
    session: AsyncSession, table: Table, values: dict[str, Any]
) -> bool:
    """INSERT … ON CONFLICT DO NOTHING on both databases; True when a row was inserted.

    A duplicate is the normal case for a second click, so it must not raise (on PostgreSQL an
    IntegrityError would also abort the whole transaction).
    """
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    result = await session.execute(insert(table).values(**values).on_conflict_do_nothing())
    return bool(result.rowcount)  # type: ignore[attr-defined]


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


class TenantRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, tenant: Tenant) -> None:
        self.session.add(tenant)

    async def by_channel(
        self, workspace_id: int, channel_id: str, *, for_update: bool = False
    ) -> Tenant | None:
        query = select(Tenant).where(
            Tenant.workspace_id == workspace_id, Tenant.channel_id == channel_id
        )
        if for_update:
            query = query.with_for_update()
        return await self.session.scalar(query)

    async def get(self, workspace_id: int, tenant_id: int) -> Tenant | None:
        if not storable(tenant_id):
            return None
        return await self.session.scalar(
            select(Tenant).where(Tenant.workspace_id == workspace_id, Tenant.id == tenant_id)
        )

    async def get_any(self, tenant_id: int) -> Tenant | None:
        """By id alone: for background jobs, which act for the tenant's own workspace."""
        if not storable(tenant_id):
            return None
        return await self.session.get(Tenant, tenant_id)

    async def list(self, workspace_id: int) -> Sequence[Tenant]:
        result = await self.session.scalars(
            select(Tenant).where(Tenant.workspace_id == workspace_id).order_by(Tenant.name)
        )
        return result.all()


class StepRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, step: StepState) -> None:
        self.session.add(step)

    async def for_tenant(self, tenant_id: int) -> Sequence[StepState]:
        result = await self.session.scalars(
            select(StepState).where(StepState.tenant_id == tenant_id).order_by(StepState.id)
        )
        return result.all()

    async def for_tenants(self, tenant_ids: Sequence[int]) -> Sequence[StepState]:
        if not tenant_ids:
            return []
        result = await self.session.scalars(
            select(StepState).where(StepState.tenant_id.in_(tenant_ids)).order_by(StepState.id)
        )
        return result.all()

    async def get(
        self, tenant_id: int, step_id: str, *, for_update: bool = False
    ) -> StepState | None:
        query = select(StepState).where(
            StepState.tenant_id == tenant_id, StepState.step_id == step_id
        )
        if for_update:
            query = query.with_for_update()
        return await self.session.scalar(query)


class ApprovalRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, request: ApprovalRequest) -> None:
        self.session.add(request)

    async def get(
        self, tenant_id: int, request_id: int, *, for_update: bool = False
    ) -> ApprovalRequest | None:
        if not (storable(tenant_id) and storable(request_id)):
            return None
        query = select(ApprovalRequest).where(
            ApprovalRequest.tenant_id == tenant_id, ApprovalRequest.id == request_id
        )
        if for_update:
            query = query.with_for_update()
        return await self.session.scalar(query)

    async def open_for(self, tenant_id: int, step_id: str) -> ApprovalRequest | None:
        return await self.session.scalar(
            select(ApprovalRequest)
            .where(
                ApprovalRequest.tenant_id == tenant_id,
                ApprovalRequest.step_id == step_id,
                ApprovalRequest.status == "open",
            )
            .order_by(ApprovalRequest.id.desc())
            .limit(1)
        )

    async def latest(self, tenant_id: int, step_id: str) -> ApprovalRequest | None:
        return await self.session.scalar(
            select(ApprovalRequest)
            .where(ApprovalRequest.tenant_id == tenant_id, ApprovalRequest.step_id == step_id)
            .order_by(ApprovalRequest.id.desc())
            .limit(1)
        )

    async def add_vote(self, request_id: int, user_id: str, decision: str, at: datetime) -> bool:
        """Record a vote unless this user already voted; True when it was new."""
        return await insert_ignoring_duplicates(
            self.session,
            ApprovalVote.__table__,  # type: ignore[arg-type]
            {"request_id": request_id, "user_id": user_id, "decision": decision, "voted_at": at},
        )

    async def votes(self, request_id: int) -> Sequence[ApprovalVote]:
        result = await self.session.scalars(
            select(ApprovalVote)
            .where(ApprovalVote.request_id == request_id)
            .order_by(ApprovalVote.id)
        )
        return result.all()


class ReminderRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, reminder: Reminder) -> None:
        self.session.add(reminder)

    async def for_tenant(self, tenant_id: int) -> Sequence[Reminder]:
        result = await self.session.scalars(
            select(Reminder).where(Reminder.tenant_id == tenant_id).order_by(Reminder.id)
        )
        return result.all()

    async def get(self, reminder_id: int, *, for_update: bool = False) -> Reminder | None:
        query = select(Reminder).where(Reminder.id == reminder_id)
        if for_update:
            query = query.with_for_update(skip_locked=True)
        return await self.session.scalar(query)

    async def delete_for_tenant(self, tenant_id: int) -> int:
        result = await self.session.execute(delete(Reminder).where(Reminder.tenant_id == tenant_id))
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def due(self, now: datetime, limit: int = 100) -> Sequence[Reminder]:
        """Reminders whose next run has come, claimed (PostgreSQL: rows other replicas skip)."""
        result = await self.session.scalars(
            select(Reminder)
            .where(Reminder.next_run.is_not(None), Reminder.next_run <= now)
            .where(Reminder.tenant_id.in_(active_tenant_ids()))  # not of uninstalled workspaces
            .order_by(Reminder.next_run)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return result.all()


class AcknowledgementRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, tenant_id: int, step_id: str, user_id: str, at: datetime) -> bool:
        return await insert_ignoring_duplicates(
            self.session,
            Acknowledgement.__table__,  # type: ignore[arg-type]
            {"tenant_id": tenant_id, "step_id": step_id, "user_id": user_id, "acked_at": at},
        )

    async def users(self, tenant_id: int, step_id: str) -> set[str]:
        result = await self.session.scalars(
            select(Acknowledgement.user_id).where(
                Acknowledgement.tenant_id == tenant_id, Acknowledgement.step_id == step_id
            )
        )
        return set(result.all())


class MessageRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, tenant_id: int, kind: str) -> SlackMessage | None:
        return await self.session.scalar(
            select(SlackMessage).where(
                SlackMessage.tenant_id == tenant_id, SlackMessage.kind == kind
            )
        )

    async def remember(self, tenant_id: int, kind: str, channel_id: str, ts: str) -> None:
        message = await self.get(tenant_id, kind)
        if message is None:
            self.session.add(
                SlackMessage(tenant_id=tenant_id, kind=kind, channel_id=channel_id, ts=ts)
            )
        else:
            message.channel_id, message.ts, message.updated_at = channel_id, ts, utcnow()


class AuditRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, event: AuditEvent) -> None:
        self.session.add(event)

    async def for_tenant(self, tenant_id: int, limit: int = 50) -> Sequence[AuditEvent]:
        result = await self.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.tenant_id == tenant_id)
            .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
            .limit(limit)
        )
        return result.all()

    async def count(self, tenant_id: int) -> int:
        return int(
            await self.session.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.tenant_id == tenant_id)
            )
            or 0
        )
