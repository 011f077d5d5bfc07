"""Queries of the background watch: due polls with leases, observations with a version check,
the outbox, and the Graph credentials. Reached from bot.watch through ``WatchStore``.

Claims use ``FOR UPDATE SKIP LOCKED`` on PostgreSQL so replicas never pick the same row; on
SQLite (one replica) the writer lock serialises claims anyway.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar, cast

from sqlalchemy import (
    ColumnElement,
    Select,
    Table,
    bindparam,
    func,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    ApprovalRequest,
    GraphCredential,
    OutboxMessage,
    OutboxStatus,
    StepState,
    Tenant,
    TenantApprover,
    TenantDomain,
    UTCDateTime,
    WatchObservation,
    WatchPoll,
    Workspace,
)
from storage.workspace_state import active_tenant_ids


def _dialect(session: AsyncSession) -> str:
    return session.bind.dialect.name if session.bind is not None else "sqlite"


def _insert(session: AsyncSession) -> Any:
    return postgresql.insert if _dialect(session) == "postgresql" else sqlite.insert


# Rows per multi-row INSERT: 11 parameters a row stays under SQLite's and asyncpg's 32,767.
CHUNK = 500
T = TypeVar("T")


def _chunks(items: Sequence[T]) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


def _claimable(now: datetime) -> tuple[ColumnElement[bool], ...]:
    """Outbox rows a sender may claim: pending, due, unleased (or lease expired), of a
    workspace that has the app installed."""
    return (
        OutboxMessage.tenant_id.in_(active_tenant_ids()),
        OutboxMessage.status == OutboxStatus.PENDING,
        OutboxMessage.next_attempt_at <= now,
        or_(OutboxMessage.lease_until.is_(None), OutboxMessage.lease_until < now),
    )


def _skip_locked(session: AsyncSession, query: Select[Any]) -> Select[Any]:
    if _dialect(session) == "postgresql":
        return query.with_for_update(skip_locked=True)
    return query


def _runbook_changed_since_last_poll() -> ColumnElement[bool]:
    """An approval closed, or the data step changed, after the tenant's last poll: poll it now
    rather than at its slow next time (that is when it may turn fast or ready to move)."""
    polled = WatchPoll.last_polled_at
    return or_(
        select(ApprovalRequest.id)
        .where(ApprovalRequest.tenant_id == WatchPoll.tenant_id, ApprovalRequest.closed_at > polled)
        .exists(),
        select(StepState.id)
        .where(
            StepState.tenant_id == WatchPoll.tenant_id,
            StepState.step_id == "verify-data",
            StepState.changed_at > polled,
        )
        .exists(),
    )


@dataclass(frozen=True)
class WatchedTenant:
    id: int
    channel_id: str
    time_zone: str
    domains: tuple[str, ...]  # ASCII, the primary first
    approvers: tuple[str, ...]
    onprem_exchange: bool = False
    internal_dns_server: str | None = None  # IP or IP:PORT
    source: str | None = None  # the source platform a person chose (None: detected)


@dataclass(frozen=True)
class ObservationWrite:
    """A tenant's new observation, to be written only over ``prev_version`` (0: none yet)."""

    tenant_id: int
    prev_version: int
    version: int
    data: dict[str, Any]
    observed_at: datetime


@dataclass(frozen=True)
class NewOutboxRow:
    """An outbox row to insert unless its ``dedupe_key`` exists."""

    dedupe_key: str
    tenant_id: int
    channel_id: str
    kind: str
    text: str
    blocks: dict[str, Any]  # {"blocks": [...]}
    edit_group: str | None
    message_ts: str | None  # a message to update instead of posting
    next_attempt_at: datetime
    created_at: datetime
    leased_by: str | None = None  # born claimed by this replica until ``lease_until``
    lease_until: datetime | None = None


@dataclass(frozen=True)
class PollDone:
    """A finished poll: release the lease, schedule the next one."""

    tenant_id: int
    polled_at: datetime
    next_poll_at: datetime
    fast: bool
    error: str | None


class WatchRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # --- polls ----------------------------------------------------------------------------

    async def ensure_polls(self, now: datetime) -> None:
        """Every tenant has a poll row (new tenants are due at once)."""
        missing = select(Tenant.id, literal(now, UTCDateTime())).where(
            ~select(WatchPoll.tenant_id).where(WatchPoll.tenant_id == Tenant.id).exists()
        )
        statement = (
            _insert(self.session)(WatchPoll)
            .from_select(["tenant_id", "next_poll_at"], missing)
            .on_conflict_do_nothing()
        )
        await self.session.execute(statement)

    async def claim_due(
        self, owner: str, now: datetime, lease_until: datetime, limit: int
    ) -> list[int]:
        query = (
            select(WatchPoll.tenant_id)
            .where(
                WatchPoll.tenant_id.in_(active_tenant_ids()),  # not of uninstalled workspaces
                or_(WatchPoll.next_poll_at <= now, _runbook_changed_since_last_poll()),
                or_(WatchPoll.lease_until.is_(None), WatchPoll.lease_until < now),
            )
            # tenants at the fast interval first: a backlog of slow ones must not delay them
            .order_by(WatchPoll.fast.desc(), WatchPoll.next_poll_at, WatchPoll.tenant_id)
            .limit(limit)
        )
        ids = list((await self.session.scalars(_skip_locked(self.session, query))).all())
        if ids:
            await self.session.execute(
                update(WatchPoll)
                .where(WatchPoll.tenant_id.in_(ids))
                .values(leased_by=owner, lease_until=lease_until)
            )
        return ids

    async def finish_polls(self, done: Sequence[PollDone], owner: str) -> None:
        """Release the leases ``owner`` still holds and schedule each next poll, in one
        statement run for every row (a lease already lost is left alone)."""
        if not done:
            return
        table = cast(Table, WatchPoll.__table__)
        statement = (
            update(table)
            .where(table.c.tenant_id == bindparam("done_tenant"), table.c.leased_by == owner)
            .values(
                leased_by=None,
                lease_until=None,
                next_poll_at=bindparam("done_next"),
                fast=bindparam("done_fast"),
                last_polled_at=bindparam("done_at"),
                last_error=bindparam("done_error"),
            )
        )
        await self.session.execute(
            statement,
            [
                {
                    "done_tenant": d.tenant_id,
                    "done_next": d.next_poll_at,
                    "done_fast": d.fast,
                    "done_at": d.polled_at,
                    "done_error": d.error,
                }
                for d in done
            ],
        )

    async def poll_row(self, tenant_id: int) -> WatchPoll | None:
        return await self.session.get(WatchPoll, tenant_id)

    async def poll_sooner(self, tenant_id: int, at: datetime) -> None:
        """Bring a tenant's next poll forward (an approval was granted, credentials set)."""
        await self.session.execute(
            update(WatchPoll)
            .where(WatchPoll.tenant_id == tenant_id, WatchPoll.next_poll_at > at)
            .values(next_poll_at=at)
        )

    async def make_all_due(self, now: datetime) -> None:
        """Every tenant's next poll is ``now`` at the latest (polls under a lease keep it)."""
        await self.session.execute(
            update(WatchPoll).where(WatchPoll.next_poll_at > now).values(next_poll_at=now)
        )

    async def release_unchanged(
        self,
        tenant_ids: Sequence[int],
        owner: str,
        *,
        now: datetime,
        next_poll_at: datetime,
        fast: bool,
    ) -> None:
        """finish_poll for many tenants at once (those whose poll found nothing new)."""
        if not tenant_ids:
            return
        await self.session.execute(
            update(WatchPoll)
            .where(WatchPoll.tenant_id.in_(tenant_ids), WatchPoll.leased_by == owner)
            .values(
                leased_by=None,
                lease_until=None,
                next_poll_at=next_poll_at,
                fast=fast,
                last_polled_at=now,
                last_error=None,
            )
        )

    # --- what a batch of polls reads ------------------------------------------------------

    async def watched_tenants(self, tenant_ids: Sequence[int]) -> list[WatchedTenant]:
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

    async def step_statuses(self, tenant_ids: Sequence[int]) -> dict[int, dict[str, str]]:
        found: dict[int, dict[str, str]] = {}
        for tenant, step, status in await self.session.execute(
            select(StepState.tenant_id, StepState.step_id, StepState.status).where(
                StepState.tenant_id.in_(tenant_ids)
            )
        ):
            found.setdefault(tenant, {})[step] = status
        return found

    async def observations(
        self, tenant_ids: Sequence[int]
    ) -> dict[int, tuple[int, dict[str, Any]]]:
        rows = await self.session.execute(
            select(
                WatchObservation.tenant_id, WatchObservation.version, WatchObservation.data
            ).where(WatchObservation.tenant_id.in_(tenant_ids))
        )
        return {tenant: (version, dict(data)) for tenant, version, data in rows}

    async def last_errors(self, tenant_ids: Sequence[int]) -> dict[int, str]:
        rows = await self.session.execute(
            select(WatchPoll.tenant_id, WatchPoll.last_error).where(
                WatchPoll.tenant_id.in_(tenant_ids), WatchPoll.last_error.is_not(None)
            )
        )
        return {tenant: error for tenant, error in rows}

    async def graph_credentials(self, tenant_ids: Sequence[int]) -> dict[int, GraphCredential]:
        rows = await self.session.scalars(
            select(GraphCredential).where(GraphCredential.tenant_id.in_(tenant_ids))
        )
        return {row.tenant_id: row for row in rows}

    async def latest_approval_status(
        self, tenant_ids: Sequence[int], step_id: str
    ) -> dict[int, str]:
        """The status of each tenant's newest approval request for ``step_id`` (the one that
        counts, as in ApprovalRepository.latest)."""
        rows = await self.session.execute(
            select(ApprovalRequest.tenant_id, ApprovalRequest.status)
            .where(ApprovalRequest.tenant_id.in_(tenant_ids), ApprovalRequest.step_id == step_id)
            .order_by(ApprovalRequest.id)
        )
        return {tenant: status for tenant, status in rows}  # the newest wins

    # --- observations ---------------------------------------------------------------------

    async def observation(self, tenant_id: int) -> tuple[int, dict[str, Any]] | None:
        row = await self.session.get(WatchObservation, tenant_id, populate_existing=True)
        return None if row is None else (row.version, dict(row.data))

    async def store_observations(self, writes: Sequence[ObservationWrite]) -> set[int]:
        """Write each observation only over its ``prev_version``: of replicas that polled the
        same tenant from the same starting point, the first to commit wins. Returns the
        tenants whose observation was written. First observations go in one statement."""
        written: set[int] = set()
        first = [w for w in writes if w.prev_version == 0]
        for chunk in _chunks(first):
            inserted = await self.session.scalars(
                _insert(self.session)(WatchObservation)
                .values(
                    [
                        {
                            "tenant_id": w.tenant_id,
                            "version": w.version,
                            "data": w.data,
                            "observed_at": w.observed_at,
                        }
                        for w in chunk
                    ]
                )
                .on_conflict_do_nothing()
                .returning(WatchObservation.tenant_id)
            )
            written.update(inserted)
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
            if result.rowcount:  # type: ignore[attr-defined]
                written.add(w.tenant_id)
        return written

    # --- outbox ---------------------------------------------------------------------------

    async def add_outbox(self, values: dict[str, Any]) -> bool:
        """Insert unless the dedupe key exists; True when inserted."""
        result = await self.session.execute(
            _insert(self.session)(OutboxMessage).values(**values).on_conflict_do_nothing()
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def add_outbox_rows(self, rows: Sequence[NewOutboxRow]) -> list[int]:
        """Insert each row unless its dedupe key exists, many per statement; the tenant id of
        every row inserted."""
        inserted: list[int] = []
        for chunk in _chunks(rows):
            tenants = await self.session.scalars(
                _insert(self.session)(OutboxMessage)
                .values(
                    [
                        {
                            "dedupe_key": r.dedupe_key,
                            "tenant_id": r.tenant_id,
                            "channel_id": r.channel_id,
                            "kind": r.kind,
                            "text": r.text,
                            "blocks": r.blocks,
                            "edit_group": r.edit_group,
                            "message_ts": r.message_ts,
                            "status": OutboxStatus.PENDING,
                            "attempts": 0,
                            "next_attempt_at": r.next_attempt_at,
                            "created_at": r.created_at,
                            "leased_by": r.leased_by,
                            "lease_until": r.lease_until,
                        }
                        for r in chunk
                    ]
                )
                .on_conflict_do_nothing()
                .returning(OutboxMessage.tenant_id)
            )
            inserted.extend(tenants)
        return inserted

    async def claim_outbox(
        self, owner: str, now: datetime, lease_until: datetime, limit: int
    ) -> list[OutboxMessage]:
        query = (
            select(OutboxMessage).where(*_claimable(now)).order_by(OutboxMessage.id).limit(limit)
        )
        rows = list((await self.session.scalars(_skip_locked(self.session, query))).all())
        if rows:
            await self.session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_([r.id for r in rows]))
                .values(leased_by=owner, lease_until=lease_until)
            )
        return rows

    async def count_claimable(self, now: datetime) -> int:
        """How many rows ``claim_outbox`` could take now (by any replica)."""
        query = select(func.count()).select_from(OutboxMessage).where(*_claimable(now))
        return int(await self.session.scalar(query) or 0)

    async def claim_outbox_key(
        self, key: str, owner: str, now: datetime, lease_until: datetime, values: dict[str, Any]
    ) -> OutboxMessage | None:
        """Lease the pending row ``key`` now, whatever its ``next_attempt_at`` (its writer
        delivers it at once), and set ``values`` (e.g. a fuller text) on it; None when it is
        sent, leased by another replica, or its workspace uninstalled the app. A row its
        writer leased to ``owner`` (``enqueue(held=…)``) is taken as well."""
        query = select(OutboxMessage).where(
            OutboxMessage.dedupe_key == key,
            OutboxMessage.tenant_id.in_(active_tenant_ids()),
            OutboxMessage.status == OutboxStatus.PENDING,
            OutboxMessage.attempts == 0,
            or_(
                OutboxMessage.lease_until.is_(None),
                OutboxMessage.lease_until < now,
                OutboxMessage.leased_by == owner,
            ),
        )
        row = await self.session.scalar(_skip_locked(self.session, query))
        if row is None:
            return None
        await self.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == row.id)
            .values(leased_by=owner, lease_until=lease_until, **values)
        )
        await self.session.refresh(row)
        return row

    async def release_outbox(self, row_ids: Sequence[int], owner: str) -> None:
        """Give back rows claimed but not to be sent in this run."""
        if row_ids:
            await self.session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(row_ids), OutboxMessage.leased_by == owner)
                .values(leased_by=None, lease_until=None)
            )

    async def group_ts(self, edit_group: str) -> str | None:
        """The ts of the Slack message an edit group updates (its first sent row's)."""
        return await self.session.scalar(
            select(OutboxMessage.message_ts)
            .where(
                OutboxMessage.edit_group == edit_group,
                OutboxMessage.message_ts.is_not(None),
            )
            .order_by(OutboxMessage.id)
            .limit(1)
        )

    async def earlier_pending_in_group(self, edit_group: str, row_id: int) -> bool:
        found = await self.session.scalar(
            select(OutboxMessage.id)
            .where(
                OutboxMessage.edit_group == edit_group,
                OutboxMessage.id < row_id,
                OutboxMessage.status == OutboxStatus.PENDING,
            )
            .limit(1)
        )
        return found is not None

    async def settle(self, row_id: int, owner: str, values: dict[str, Any]) -> bool:
        """Update a claimed row (sent / retry later / failed) if this replica still holds it."""
        result = await self.session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.id == row_id,
                OutboxMessage.leased_by == owner,
                OutboxMessage.status == OutboxStatus.PENDING,
            )
            .values(leased_by=None, lease_until=None, **values)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def mark_attempt(
        self, row_id: int, owner: str, attempts: int, lease_until: datetime
    ) -> bool:
        """Record that a send begins (outcome unknown until ``settle``) and extend the lease
        from now: the row may have waited its turn in a long batch since it was claimed."""
        result = await self.session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.id == row_id,
                OutboxMessage.leased_by == owner,
                OutboxMessage.status == OutboxStatus.PENDING,
            )
            .values(attempts=attempts, last_error=None, lease_until=lease_until)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def extend_lease(self, row_id: int, owner: str, lease_until: datetime) -> bool:
        """Keep a row this replica is posting (the post is slower than the lease); False when
        the lease is no longer ours."""
        result = await self.session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.id == row_id,
                OutboxMessage.leased_by == owner,
                OutboxMessage.status == OutboxStatus.PENDING,
            )
            .values(lease_until=lease_until)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def outbox_for_tenant(self, tenant_id: int) -> Sequence[OutboxMessage]:
        return (
            await self.session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.tenant_id == tenant_id)
                .order_by(OutboxMessage.id)
            )
        ).all()

    async def count_outbox(self, status: str | None = None) -> int:
        query = select(func.count()).select_from(OutboxMessage)
        if status is not None:
            query = query.where(OutboxMessage.status == status)
        return int(await self.session.scalar(query) or 0)

    async def outbox_backlog(self) -> tuple[int, datetime | None]:
        """(pending rows, when the oldest of them was written)."""
        row = (
            await self.session.execute(
                select(func.count(), func.min(OutboxMessage.created_at)).where(
                    OutboxMessage.status == OutboxStatus.PENDING
                )
            )
        ).one()
        return int(row[0] or 0), row[1]

    # --- Graph credentials ----------------------------------------------------------------

    async def workspace_of(self, tenant_id: int) -> tuple[str, str] | None:
        """(team_id, enterprise_id) of a tenant's workspace."""
        row = (
            await self.session.execute(
                select(Workspace.team_id, Workspace.enterprise_id)
                .join(Tenant, Tenant.workspace_id == Workspace.id)
                .where(Tenant.id == tenant_id)
            )
        ).first()
        return None if row is None else (row[0], row[1])

    async def graph_credential(self, tenant_id: int) -> GraphCredential | None:
        return await self.session.get(GraphCredential, tenant_id)

    async def set_graph_credential(self, values: dict[str, Any]) -> None:
        insert = _insert(self.session)(GraphCredential).values(**values)
        updates = {k: v for k, v in values.items() if k != "tenant_id"}
        await self.session.execute(
            insert.on_conflict_do_update(index_elements=["tenant_id"], set_=updates)
        )

    async def delete_graph_credential(self, tenant_id: int) -> None:
        row = await self.graph_credential(tenant_id)
        if row is not None:
            await self.session.delete(row)
