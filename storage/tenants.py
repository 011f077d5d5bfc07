"""A tenant and what hangs off it (steps, approvals, reminders, acknowledgements, the bot's
messages, the audit trail): one repository class each, reached through the unit of work.

Tenant lookups always take the workspace id, so a caller from another workspace finds nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from storage.dialect import insert_ignoring_duplicates
from storage.models import (
    Acknowledgement,
    ApprovalRequest,
    ApprovalVote,
    AuditEvent,
    Reminder,
    SlackMessage,
    StepState,
    Tenant,
    TenantApprover,
    TenantDomain,
    utcnow,
)
from storage.workspaces import active_tenant_ids

# Ids are INTEGER columns: a number beyond them (from a forged button value) exists nowhere,
# and asking for it would make the driver raise instead of finding nothing.
MAX_ID = 2**31 - 1


def storable(row_id: int) -> bool:
    return 0 < row_id <= MAX_ID


@dataclass(frozen=True)
class WatchedTenant:
    """What a poll needs of a tenant."""

    id: int
    channel_id: str
    time_zone: str
    domains: tuple[str, ...]  # ASCII, the primary first
    approvers: tuple[str, ...]
    onprem_exchange: bool = False
    internal_dns_server: str | None = None  # IP or IP:PORT
    source: str | None = None  # the source platform a person chose (None: detected)


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

    async def get_many(self, tenant_ids: Sequence[int]) -> Sequence[Tenant]:
        """``get_any`` for many tenants in one query (the watch's batch of step checks)."""
        wanted = [t for t in tenant_ids if storable(t)]
        if not wanted:
            return []
        return (await self.session.scalars(select(Tenant).where(Tenant.id.in_(wanted)))).all()

    async def list(self, workspace_id: int) -> Sequence[Tenant]:
        result = await self.session.scalars(
            select(Tenant).where(Tenant.workspace_id == workspace_id).order_by(Tenant.name)
        )
        return result.all()

    async def watched(self, tenant_ids: Sequence[int]) -> Sequence[WatchedTenant]:
        """What a poll needs of each tenant, in three plain queries (no ORM entities: a tick
        reads a hundred tenants at a time)."""
        if not tenant_ids:
            return []
        domains: dict[int, list[str]] = {}
        for tenant, domain in await self.session.execute(
            select(TenantDomain.tenant_id, TenantDomain.domain)
            .where(TenantDomain.tenant_id.in_(tenant_ids))
            .order_by(TenantDomain.tenant_id, TenantDomain.position)
        ):
            domains.setdefault(tenant, []).append(domain)
        approvers: dict[int, list[str]] = {}
        for tenant, user in await self.session.execute(
            select(TenantApprover.tenant_id, TenantApprover.user_id)
            .where(TenantApprover.tenant_id.in_(tenant_ids))
            .order_by(TenantApprover.tenant_id, TenantApprover.user_id)
        ):
            approvers.setdefault(tenant, []).append(user)
        rows = await self.session.execute(
            select(
                Tenant.id,
                Tenant.channel_id,
                Tenant.time_zone,
                Tenant.onprem_exchange,
                Tenant.internal_dns_server,
                Tenant.source,
            ).where(Tenant.id.in_(tenant_ids))
        )
        return [
            WatchedTenant(
                id=tenant,
                channel_id=channel,
                time_zone=zone,
                domains=tuple(domains.get(tenant, ())),
                approvers=tuple(approvers.get(tenant, ())),
                onprem_exchange=bool(onprem),
                internal_dns_server=internal,
                source=source,
            )
            for tenant, channel, zone, onprem, internal, source in rows
        ]


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

    async def statuses(self, tenant_ids: Sequence[int]) -> dict[int, dict[str, str]]:
        """tenant id -> step id -> status, without loading the rows."""
        found: dict[int, dict[str, str]] = {}
        for tenant, step, status in await self.session.execute(
            select(StepState.tenant_id, StepState.step_id, StepState.status).where(
                StepState.tenant_id.in_(tenant_ids)
            )
        ):
            found.setdefault(tenant, {})[step] = status
        return found

    async def get(
        self, tenant_id: int, step_id: str, *, for_update: bool = False
    ) -> StepState | None:
        query = select(StepState).where(
            StepState.tenant_id == tenant_id, StepState.step_id == step_id
        )
        if for_update:
            query = query.with_for_update()
        return await self.session.scalar(query)

    async def lock(self, steps: Sequence[tuple[int, str]]) -> None:
        """``get(..., for_update=True)`` for many (tenant id, step id) at once, in id order."""
        if not steps:
            return
        await self.session.scalars(
            select(StepState)
            .where(tuple_(StepState.tenant_id, StepState.step_id).in_(steps))
            .order_by(StepState.id)
            .with_for_update()
        )


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

    async def latest_statuses(self, tenant_ids: Sequence[int], step_id: str) -> dict[int, str]:
        """The status of each tenant's newest request for ``step_id`` (the one that counts, as
        in ``latest``)."""
        rows = await self.session.execute(
            select(ApprovalRequest.tenant_id, ApprovalRequest.status)
            .where(ApprovalRequest.tenant_id.in_(tenant_ids), ApprovalRequest.step_id == step_id)
            .order_by(ApprovalRequest.id)
        )
        return {tenant: status for tenant, status in rows}  # the newest wins

    async def latest_of_tenants(
        self, tenant_ids: Sequence[int], step_ids: Sequence[str]
    ) -> dict[int, dict[str, ApprovalRequest]]:
        """``latest`` of each tenant and step, in one query: tenant id -> step id -> request."""
        if not tenant_ids or not step_ids:
            return {}
        newest = (
            select(func.max(ApprovalRequest.id))
            .where(ApprovalRequest.tenant_id.in_(tenant_ids), ApprovalRequest.step_id.in_(step_ids))
            .group_by(ApprovalRequest.tenant_id, ApprovalRequest.step_id)
        )
        result = await self.session.scalars(
            select(ApprovalRequest).where(ApprovalRequest.id.in_(newest))
        )
        found: dict[int, dict[str, ApprovalRequest]] = {}
        for request in result.all():
            found.setdefault(request.tenant_id, {})[request.step_id] = request
        return found

    async def add_vote(self, request_id: int, user_id: str, decision: str, at: datetime) -> bool:
        """Record a vote unless this user already voted; True when it was new."""
        return await insert_ignoring_duplicates(
            self.session,
            ApprovalVote.__table__,  # type: ignore[arg-type]
            {"request_id": request_id, "user_id": user_id, "decision": decision, "voted_at": at},
        )

    async def refresh_votes(self, request: ApprovalRequest) -> None:
        """Load the request's votes again (after a commit expired them)."""
        await self.session.refresh(request, ["votes"])

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

    async def acked_users_of(self, tenant_ids: Sequence[int], step_id: str) -> dict[int, set[str]]:
        """``users`` of many tenants in one query: tenant id -> users."""
        found: dict[int, set[str]] = {}
        if not tenant_ids:
            return found
        rows = await self.session.execute(
            select(Acknowledgement.tenant_id, Acknowledgement.user_id).where(
                Acknowledgement.tenant_id.in_(tenant_ids), Acknowledgement.step_id == step_id
            )
        )
        for tenant_id, user_id in rows:
            found.setdefault(tenant_id, set()).add(user_id)
        return found


class MessageRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, tenant_id: int, kind: str) -> SlackMessage | None:
        return await self.session.scalar(
            select(SlackMessage).where(
                SlackMessage.tenant_id == tenant_id, SlackMessage.kind == kind
            )
        )

    async def of_tenants(self, tenant_ids: Sequence[int], kind: str) -> dict[int, SlackMessage]:
        """``get`` of many tenants in one query: tenant id -> message."""
        if not tenant_ids:
            return {}
        result = await self.session.scalars(
            select(SlackMessage).where(
                SlackMessage.tenant_id.in_(tenant_ids), SlackMessage.kind == kind
            )
        )
        return {m.tenant_id: m for m in result.all()}

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
