"""The watch's poll schedule: one row per tenant with its next poll, leased while polled.

Claims use ``FOR UPDATE SKIP LOCKED`` on PostgreSQL so replicas never pick the same tenant.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import ColumnElement, Table, bindparam, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.dialect import insert, rowcount, skip_locked
from storage.models import ApprovalRequest, StepState, Tenant, UTCDateTime, WatchPoll
from storage.workspaces import active_tenant_ids


@dataclass(frozen=True)
class PollDone:
    """A finished poll: release the lease, schedule the next one."""

    tenant_id: int
    polled_at: datetime
    next_poll_at: datetime
    fast: bool
    error: str | None


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


class PollRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def ensure(self, now: datetime) -> None:
        """Every tenant has a poll row (new tenants are due at once)."""
        missing = select(Tenant.id, literal(now, UTCDateTime())).where(
            ~select(WatchPoll.tenant_id).where(WatchPoll.tenant_id == Tenant.id).exists()
        )
        statement = (
            insert(self.session)(WatchPoll)
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
        ids = list((await self.session.scalars(skip_locked(self.session, query))).all())
        if ids:
            await self.session.execute(
                update(WatchPoll)
                .where(WatchPoll.tenant_id.in_(ids))
                .values(leased_by=owner, lease_until=lease_until)
            )
        return ids

    async def finish(self, done: Sequence[PollDone], owner: str) -> None:
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

    async def release_unchanged(
        self,
        tenant_ids: Sequence[int],
        owner: str,
        *,
        now: datetime,
        next_poll_at: datetime,
        fast: bool,
    ) -> None:
        """``finish`` for many tenants at once (those whose poll found nothing new)."""
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

    async def release_held_by(self, owner: str) -> int:
        """Give back every lease ``owner`` holds (a replica shutting down); how many."""
        result = await self.session.execute(
            update(WatchPoll)
            .where(WatchPoll.leased_by == owner)
            .values(leased_by=None, lease_until=None)
        )
        return rowcount(result)

    async def get(self, tenant_id: int) -> WatchPoll | None:
        return await self.session.get(WatchPoll, tenant_id)

    async def sooner(self, tenant_id: int, at: datetime) -> None:
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

    async def last_errors(self, tenant_ids: Sequence[int]) -> dict[int, str]:
        rows = await self.session.execute(
            select(WatchPoll.tenant_id, WatchPoll.last_error).where(
                WatchPoll.tenant_id.in_(tenant_ids), WatchPoll.last_error.is_not(None)
            )
        )
        return {tenant: error for tenant, error in rows}
