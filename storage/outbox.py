"""The outbox: posts waiting to go to Slack, claimed by one replica at a time under a lease.

Claims use ``FOR UPDATE SKIP LOCKED`` on PostgreSQL so replicas never pick the same row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.dialect import insert_many_ignoring_duplicates, rowcount, skip_locked
from storage.models import OutboxMessage, OutboxStatus
from storage.workspaces import active_tenant_ids


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
class Rewrite:
    """New content for a pending row (e.g. a reminder rendered again just before it goes)."""

    text: str
    blocks: dict[str, Any]  # {"blocks": [...]}
    next_attempt_at: datetime


@dataclass(frozen=True)
class Posted:
    """The row is in Slack: the message ``ts``, sent ``at``."""

    at: datetime
    ts: str | None


@dataclass(frozen=True)
class Unposted:
    """An attempt that failed: try again at ``retry_at``, or never when ``given_up``."""

    attempts: int
    error: str
    retry_at: datetime
    given_up: bool


def _claimable(now: datetime) -> tuple[ColumnElement[bool], ...]:
    """Outbox rows a sender may claim: pending, due, unleased (or lease expired), of a
    workspace that has the app installed."""
    return (
        OutboxMessage.tenant_id.in_(active_tenant_ids()),
        OutboxMessage.status == OutboxStatus.PENDING,
        OutboxMessage.next_attempt_at <= now,
        or_(OutboxMessage.lease_until.is_(None), OutboxMessage.lease_until < now),
    )


def _held(row_id: int, owner: str) -> tuple[ColumnElement[bool], ...]:
    """The pending row ``row_id`` while ``owner`` holds its lease."""
    return (
        OutboxMessage.id == row_id,
        OutboxMessage.leased_by == owner,
        OutboxMessage.status == OutboxStatus.PENDING,
    )


def _settled(outcome: Posted | Unposted | None) -> dict[str, Any]:
    if isinstance(outcome, Posted):
        return {
            "status": OutboxStatus.SENT,
            "sent_at": outcome.at,
            "message_ts": outcome.ts,
            "last_error": None,
        }
    if isinstance(outcome, Unposted):
        return {
            "attempts": outcome.attempts,
            "last_error": outcome.error,
            "next_attempt_at": outcome.retry_at,
            "status": OutboxStatus.FAILED if outcome.given_up else OutboxStatus.PENDING,
        }
    return {}


class OutboxRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add_rows(self, rows: Sequence[NewOutboxRow]) -> list[int]:
        """Insert each row unless its dedupe key exists, many per statement; the tenant id of
        every row inserted."""
        values = [
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
            for r in rows
        ]
        return await insert_many_ignoring_duplicates(
            self.session, OutboxMessage, values, OutboxMessage.tenant_id
        )

    async def claim(
        self, owner: str, now: datetime, lease_until: datetime, limit: int
    ) -> list[OutboxMessage]:
        query = (
            select(OutboxMessage).where(*_claimable(now)).order_by(OutboxMessage.id).limit(limit)
        )
        rows = list((await self.session.scalars(skip_locked(self.session, query))).all())
        if rows:
            await self.session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_([r.id for r in rows]))
                .values(leased_by=owner, lease_until=lease_until)
            )
        return rows

    async def count_claimable(self, now: datetime) -> int:
        """How many rows ``claim`` could take now (by any replica)."""
        query = select(func.count()).select_from(OutboxMessage).where(*_claimable(now))
        return int(await self.session.scalar(query) or 0)

    async def claim_key(
        self,
        key: str,
        owner: str,
        now: datetime,
        lease_until: datetime,
        rewrite: Rewrite | None = None,
    ) -> OutboxMessage | None:
        """Lease the pending row ``key`` now, whatever its ``next_attempt_at`` (its writer
        delivers it at once), with its content rewritten if given; None when it is sent,
        leased by another replica, or its workspace uninstalled the app. A row its writer
        leased to ``owner`` (``enqueue(held=…)``) is taken as well."""
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
        row = await self.session.scalar(skip_locked(self.session, query))
        if row is None:
            return None
        content = (
            {}
            if rewrite is None
            else {
                "text": rewrite.text,
                "blocks": rewrite.blocks,
                "next_attempt_at": rewrite.next_attempt_at,
            }
        )
        await self.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == row.id)
            .values(leased_by=owner, lease_until=lease_until, **content)
        )
        await self.session.refresh(row)
        return row

    async def release(self, row_ids: Sequence[int], owner: str) -> None:
        """Give back rows claimed but not to be sent in this run."""
        if row_ids:
            await self.session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(row_ids), OutboxMessage.leased_by == owner)
                .values(leased_by=None, lease_until=None)
            )

    async def release_held_by(self, owner: str) -> int:
        """Give back every lease ``owner`` holds (a replica shutting down); how many."""
        result = await self.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.leased_by == owner)
            .values(leased_by=None, lease_until=None)
        )
        return rowcount(result)

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

    async def settle(
        self, row_id: int, owner: str, outcome: Posted | Unposted | None = None
    ) -> bool:
        """End this replica's lease of a claimed row, recording the outcome of its post (None:
        none was made, the row waits as it is); False when the lease is no longer ours."""
        result = await self.session.execute(
            update(OutboxMessage)
            .where(*_held(row_id, owner))
            .values(leased_by=None, lease_until=None, **_settled(outcome))
        )
        return bool(rowcount(result))

    async def mark_attempt(
        self, row_id: int, owner: str, attempts: int, lease_until: datetime
    ) -> bool:
        """Record that a send begins (outcome unknown until ``settle``) and extend the lease
        from now: the row may have waited its turn in a long batch since it was claimed."""
        result = await self.session.execute(
            update(OutboxMessage)
            .where(*_held(row_id, owner))
            .values(attempts=attempts, last_error=None, lease_until=lease_until)
        )
        return bool(rowcount(result))

    async def extend_lease(self, row_id: int, owner: str, lease_until: datetime) -> bool:
        """Keep a row this replica is posting (the post is slower than the lease); False when
        the lease is no longer ours."""
        result = await self.session.execute(
            update(OutboxMessage).where(*_held(row_id, owner)).values(lease_until=lease_until)
        )
        return bool(rowcount(result))

    async def for_tenant(self, tenant_id: int) -> Sequence[OutboxMessage]:
        return (
            await self.session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.tenant_id == tenant_id)
                .order_by(OutboxMessage.id)
            )
        ).all()

    async def count(self, status: str | None = None) -> int:
        query = select(func.count()).select_from(OutboxMessage)
        if status is not None:
            query = query.where(OutboxMessage.status == status)
        return int(await self.session.scalar(query) or 0)

    async def backlog(self) -> tuple[int, datetime | None]:
        """(pending rows, when the oldest of them was written)."""
        row = (
            await self.session.execute(
                select(func.count(), func.min(OutboxMessage.created_at)).where(
                    OutboxMessage.status == OutboxStatus.PENDING
                )
            )
        ).one()
        return int(row[0] or 0), row[1]
