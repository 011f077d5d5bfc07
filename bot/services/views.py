"""Typed results the services return: plain frozen data, loaded before the session closes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.core.approvals import Decision, RequestState, RequestStatus, Vote
from bot.core.runbook import STEPS, Progress, Status, Step, StepId, next_step, progress
from storage.models import ApprovalRequest, StepState, Tenant


@dataclass(frozen=True)
class DomainView:
    ascii: str
    display: str


@dataclass(frozen=True)
class TenantView:
    id: int
    workspace_id: int
    channel_id: str
    name: str
    domains: tuple[DomainView, ...]  # the primary domain first
    time_zone: str
    onprem_exchange: bool
    internal_dns_server: str | None
    approvers: tuple[str, ...]
    approvals_needed: int
    partner_id: str | None
    created_by: str
    created_at: datetime

    @property
    def primary_domain(self) -> DomainView:
        return self.domains[0]


@dataclass(frozen=True)
class StepView:
    step: Step
    status: Status
    actor_id: str | None = None
    changed_at: datetime | None = None
    owner_id: str | None = None
    evidence: dict[str, Any] | None = None
    note: str | None = None


@dataclass(frozen=True)
class TenantStatus:
    tenant: TenantView
    steps: tuple[StepView, ...]  # the runbook's order
    acked_users: frozenset[str] = frozenset()  # passwords step
    approvals: tuple[ApprovalView, ...] = ()  # the latest request of each gated step, if any

    @property
    def statuses(self) -> dict[StepId, Status]:
        return {s.step.id: s.status for s in self.steps}

    @property
    def progress(self) -> Progress:
        return progress(self.statuses)

    @property
    def next_step(self) -> Step | None:
        return next_step(self.statuses)

    def step(self, step_id: StepId) -> StepView:
        return next(s for s in self.steps if s.step.id is step_id)

    def approval(self, step_id: StepId) -> ApprovalView | None:
        """The latest approval request for ``step_id`` (open, approved or rejected)."""
        return next((a for a in self.approvals if a.step_id is step_id), None)


@dataclass(frozen=True)
class ApprovalView:
    id: int
    tenant_id: int
    tenant_name: str
    step_id: StepId
    status: RequestStatus
    requested_by: str
    requested_at: datetime
    approvals_needed: int
    approvers: frozenset[str]
    votes: tuple[Vote, ...] = field(default=())
    channel_id: str | None = None
    message_ts: str | None = None
    closed_at: datetime | None = None

    @property
    def approvals(self) -> tuple[Vote, ...]:
        return tuple(v for v in self.votes if v.decision is Decision.APPROVE)

    def state(self) -> RequestState:
        return RequestState(
            requested_by=self.requested_by,
            approvers=self.approvers,
            needed=self.approvals_needed,
            status=self.status,
            votes=self.votes,
        )


def tenant_view(tenant: Tenant) -> TenantView:
    return TenantView(
        id=tenant.id,
        workspace_id=tenant.workspace_id,
        channel_id=tenant.channel_id,
        name=tenant.name,
        domains=tuple(DomainView(d.domain, d.display) for d in tenant.domains),
        time_zone=tenant.time_zone,
        onprem_exchange=tenant.onprem_exchange,
        internal_dns_server=tenant.internal_dns_server,
        approvers=tuple(a.user_id for a in tenant.approvers),
        approvals_needed=tenant.approvals_needed,
        partner_id=tenant.partner_id,
        created_by=tenant.created_by,
        created_at=tenant.created_at,
    )


def step_views(rows: Sequence[StepState]) -> tuple[StepView, ...]:
    by_id = {row.step_id: row for row in rows}
    views = []
    for step in STEPS:
        row = by_id.get(step.id)
        if row is None:
            views.append(StepView(step, Status.OPEN))
            continue
        views.append(
            StepView(
                step=step,
                status=Status(row.status),
                actor_id=row.actor_id,
                changed_at=row.changed_at,
                owner_id=row.owner_id,
                evidence=row.evidence,
                note=row.note,
            )
        )
    return tuple(views)


def approval_view(request: ApprovalRequest, tenant: Tenant) -> ApprovalView:
    return ApprovalView(
        id=request.id,
        tenant_id=tenant.id,
        tenant_name=tenant.name,
        step_id=StepId(request.step_id),
        status=RequestStatus(request.status),
        requested_by=request.requested_by,
        requested_at=request.requested_at,
        approvals_needed=request.approvals_needed,
        approvers=frozenset(a.user_id for a in tenant.approvers),
        votes=tuple(Vote(v.user_id, Decision(v.decision), v.voted_at) for v in request.votes),
        channel_id=request.channel_id,
        message_ts=request.message_ts,
        closed_at=request.closed_at,
    )
