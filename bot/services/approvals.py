"""Approval requests for gated steps (mx, lync) and the votes on them.

The rules are bot.core.approvals' (pure); this module loads the request under a row lock, asks the
rules, and writes the vote with ON CONFLICT DO NOTHING, so two clicks in flight record one vote
and two approvers clicking at once both count.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.core.approvals import (
    ApprovalRefusal,
    Decision,
    RequestStatus,
    VoteOutcome,
    check_can_request,
    decide,
)
from bot.core.clock import now_or_utcnow
from bot.core.runbook import RunbookRefusal, Status, StepId, check_request
from bot.core.runbook import step as runbook_step
from bot.services.common import Caller, Refusal, record, tenant_by_id, tenant_here
from bot.services.views import ApprovalView, approval_view
from storage.models import ApprovalRequest, Tenant
from storage.uow import UnitOfWork


@dataclass(frozen=True)
class VoteView:
    outcome: VoteOutcome
    request: ApprovalView

    @property
    def closed_now(self) -> bool:
        """This vote decided the request (approved or rejected)."""
        return (
            self.outcome is VoteOutcome.RECORDED and self.request.status is not RequestStatus.OPEN
        )


@dataclass(frozen=True)
class MxAudit:
    """The domains whose fresh audits must show no MX blocker before an ``mx`` request."""

    tenant_id: int
    domains: tuple[str, ...]  # ASCII


async def audit_needed(uow: UnitOfWork, caller: Caller, step_text: str) -> MxAudit | None:
    """Before a request, refuse now what :func:`request_approval` would refuse for the runbook
    or the approvers; for ``mx``, say which domains to audit first (None for other steps).
    Reads only: a few indexed rows, inside Slack's 3 s."""
    step_id = _step_id(step_text)
    async with uow:
        tenant = await tenant_here(uow, caller)
        _check(step_id, await _statuses(uow, tenant.id), caller, tenant, ())
        if step_id is not StepId.MX:
            return None
        return MxAudit(tenant.id, tuple(d.domain for d in tenant.domains))


def _step_id(step_text: str) -> StepId:
    try:
        return runbook_step(step_text).id
    except RunbookRefusal as exc:
        raise Refusal(exc.reason, exc.hint, code="no-step") from None


async def _statuses(uow: UnitOfWork, tenant_id: int) -> dict[StepId, Status]:
    return {StepId(r.step_id): Status(r.status) for r in await uow.steps.for_tenant(tenant_id)}


def _check(
    step_id: StepId,
    statuses: dict[StepId, Status],
    caller: Caller,
    tenant: Tenant,
    mx_blockers: Sequence[str],
) -> None:
    try:
        check_request(step_id, statuses, mx_blockers)
        check_can_request(
            caller.user_id, [a.user_id for a in tenant.approvers], tenant.approvals_needed
        )
    except (RunbookRefusal, ApprovalRefusal) as exc:
        raise Refusal(exc.reason, exc.hint, code="cannot-request") from None


async def request_approval(
    uow: UnitOfWork,
    caller: Caller,
    step_text: str,
    now: datetime | None = None,
    *,
    mx_blockers: Sequence[str] = (),
) -> ApprovalView:
    """Open an approval request for a gated step of the caller's channel's tenant;
    ``mx_blockers`` from fresh audits of its domains (see :func:`domains_to_check`)."""
    at = now_or_utcnow(now)
    step_id = _step_id(step_text)
    async with uow:
        tenant = await tenant_here(uow, caller, for_update=True)
        _check(step_id, await _statuses(uow, tenant.id), caller, tenant, mx_blockers)
        latest = await uow.approvals.latest(tenant.id, step_id)
        if latest is not None and latest.status == RequestStatus.APPROVED:
            raise Refusal(
                f"`{step_id}` is already approved.", "Go ahead with the step.", code="approved"
            )
        if latest is not None and latest.status == RequestStatus.OPEN:
            raise Refusal(
                f"A request for `{step_id}` is already waiting for approvals.",
                "Approvers can use the buttons on that message.",
                code="already-requested",
            )
        request = ApprovalRequest(
            tenant_id=tenant.id,
            step_id=step_id,
            status=RequestStatus.OPEN,
            requested_by=caller.user_id,
            requested_at=at,
            approvals_needed=tenant.approvals_needed,
            channel_id=caller.channel_id,
            votes=[],
        )
        uow.approvals.add(request)
        await uow.flush()
        record(uow, tenant, caller.user_id, "approval.request", at, step_id, request=request.id)
        await uow.commit()
        return approval_view(request, tenant)


async def open_request_here(uow: UnitOfWork, caller: Caller, step_text: str) -> tuple[int, int]:
    """(tenant id, request id) of the request for ``step_text`` waiting for approvals in the
    caller's channel: what a typed ``approve mx`` / ``reject mx`` votes on."""
    step_id = _step_id(step_text)
    async with uow:
        tenant = await tenant_here(uow, caller)
        latest = await uow.approvals.latest(tenant.id, step_id)
        if latest is None or latest.status != RequestStatus.OPEN:
            raise Refusal(
                f"No request for `{step_id}` is waiting for approvals here.",
                f"Ask for one with `/transition request {step_id}`.",
                code="no-request",
            )
        return tenant.id, latest.id


async def attach_message(
    uow: UnitOfWork, caller: Caller, tenant_id: int, request_id: int, channel_id: str, ts: str
) -> None:
    """Remember where the request's message is, to edit it in place (chat.update)."""
    async with uow:
        tenant = await tenant_by_id(uow, caller, tenant_id)
        request = await uow.approvals.get(tenant.id, request_id)
        if request is not None:
            request.channel_id, request.message_ts = channel_id, ts
            await uow.commit()


async def vote(
    uow: UnitOfWork,
    caller: Caller,
    tenant_id: int,
    request_id: int,
    decision: Decision,
    now: datetime | None = None,
) -> VoteView:
    """Approve or reject. A second click by the same person is a no-op (outcome DUPLICATE);
    a click that may not count raises Refusal and changes nothing."""
    at = now_or_utcnow(now)
    async with uow:
        tenant = await tenant_by_id(uow, caller, tenant_id)
        request = await uow.approvals.get(tenant.id, request_id, for_update=True)
        if request is None:
            raise Refusal("That approval request no longer exists.", code="no-request")
        view = approval_view(request, tenant)
        try:
            result = decide(view.state(), caller.user_id, decision)
        except ApprovalRefusal as exc:
            raise Refusal(exc.reason, exc.hint, code="cannot-vote") from None
        if result.outcome is VoteOutcome.RECORDED:
            inserted = await uow.approvals.add_vote(request.id, caller.user_id, decision, at)
            if not inserted:  # the same person's other click won the race
                return VoteView(VoteOutcome.DUPLICATE, view)
            if result.status is not RequestStatus.OPEN:
                request.status = result.status
                request.closed_at = at
                request.closed_by = caller.user_id
            record(
                uow,
                tenant,
                caller.user_id,
                f"approval.{decision.value}",
                at,
                request.step_id,
                request=request.id,
                status=result.status.value,
            )
            await uow.commit()
            await uow.approvals.refresh_votes(request)
        return VoteView(result.outcome, approval_view(request, tenant))


async def get_request(
    uow: UnitOfWork, caller: Caller, tenant_id: int, request_id: int
) -> ApprovalView:
    async with uow:
        tenant = await tenant_by_id(uow, caller, tenant_id)
        request = await uow.approvals.get(tenant.id, request_id)
        if request is None:
            raise Refusal("That approval request no longer exists.", code="no-request")
        return approval_view(request, tenant)
