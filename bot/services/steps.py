"""Mark runbook steps done / skipped / reopened, and record automated checks.

The rules (what may change, the MX gate) are bot.core.runbook's; this module loads, asks, writes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.blocks.runbook import runbook_blocks, status_text
from bot.core import dns_step
from bot.core.approvals import RequestStatus
from bot.core.clock import now_or_utcnow
from bot.core.evidence import Evidence
from bot.core.runbook import Action, Actor, RunbookRefusal, Status, StepId, check_skip, next_status
from bot.core.runbook import step as runbook_step
from bot.dnscheck.model import Audit
from bot.outbox.enqueue import Post, enqueue
from bot.services.common import (
    BOT_ACTOR,
    Caller,
    Refusal,
    record,
    tenant_by_id,
    tenant_here,
)
from bot.services.messages import RUNBOOK
from bot.services.tenants import load_status
from bot.services.views import TenantStatus
from storage.models import StepState, Tenant
from storage.uow import UnitOfWork


@dataclass(frozen=True)
class StepChange:
    step_id: StepId
    before: Status
    after: Status
    status: TenantStatus  # the tenant after the change

    @property
    def changed(self) -> bool:
        return self.before is not self.after


def _step_id(text: str) -> StepId:
    try:
        return runbook_step(text).id
    except RunbookRefusal as exc:
        raise Refusal(exc.reason, exc.hint, code="no-step") from None


async def _statuses(uow: UnitOfWork, tenant: Tenant) -> dict[StepId, Status]:
    return {StepId(r.step_id): Status(r.status) for r in await uow.steps.for_tenant(tenant.id)}


async def _row(uow: UnitOfWork, tenant: Tenant, step_id: StepId) -> StepState:
    row = await uow.steps.get(tenant.id, step_id, for_update=True)
    if row is None:  # a step added to the runbook after this tenant started
        row = StepState(tenant_id=tenant.id, step_id=step_id, status=Status.OPEN)
        uow.steps.add(row)
    return row


async def approval_granted(uow: UnitOfWork, tenant_id: int, step_id: StepId) -> bool:
    latest = await uow.approvals.latest(tenant_id, step_id)
    return latest is not None and latest.status == RequestStatus.APPROVED


async def change_step(
    uow: UnitOfWork,
    caller: Caller,
    step_text: str,
    action: Action,
    *,
    note: str = "",
    now: datetime | None = None,
) -> StepChange:
    """Done / Skip (``note`` is the reason) / Reopen a step of the caller's channel's tenant."""
    step_id = _step_id(step_text)
    at = now_or_utcnow(now)
    async with uow:
        tenant = await tenant_here(uow, caller, for_update=True)
        statuses = await _statuses(uow, tenant)
        approved = await approval_granted(uow, tenant.id, step_id)
        try:
            after = next_status(step_id, action, statuses, approved=approved, reason=note)
        except RunbookRefusal as exc:
            raise Refusal(exc.reason, exc.hint, code=f"cannot-{action.value}") from None
        row = await _row(uow, tenant, step_id)
        before = Status(row.status)
        row.status = after
        row.actor_id = caller.user_id
        row.changed_at = at
        row.note = note.strip() or None
        if action is Action.DONE and step_id is StepId.PARTNER and note.strip():
            tenant.partner_id = note.strip()[:64]
        record(uow, tenant, caller.user_id, f"step.{action.value}", at, step_id, note=note.strip())
        await uow.commit()
        return StepChange(step_id, before, after, await load_status(uow, tenant))


async def complete_step(
    uow: UnitOfWork, caller: Caller, step: str, note: str = "", now: datetime | None = None
) -> StepChange:
    return await change_step(uow, caller, step, Action.DONE, note=note, now=now)


async def skip_step(
    uow: UnitOfWork, caller: Caller, step: str, reason: str, now: datetime | None = None
) -> StepChange:
    return await change_step(uow, caller, step, Action.SKIP, note=reason, now=now)


async def check_can_skip(uow: UnitOfWork, caller: Caller, tenant_id: int, step_text: str) -> None:
    """Before the Skip button asks for a reason: refuse now what the submit would refuse
    (another workspace's tenant, a finished step, a step that cannot be skipped). Two indexed
    reads, well inside the trigger_id's 3 s."""
    step_id = _step_id(step_text)
    async with uow:
        tenant = await tenant_by_id(uow, caller, tenant_id)
        try:
            check_skip(step_id, await _statuses(uow, tenant))
        except RunbookRefusal as exc:
            raise Refusal(exc.reason, exc.hint, code="cannot-skip") from None


async def reopen_step(
    uow: UnitOfWork, caller: Caller, step: str, now: datetime | None = None
) -> StepChange:
    return await change_step(uow, caller, step, Action.REOPEN, now=now)


async def _apply_check(
    uow: UnitOfWork,
    tenant: Tenant,
    step_id: StepId,
    passed: bool,
    evidence: Evidence,
    actor_id: str,
    at: datetime,
) -> tuple[Status, Status]:
    """Keep the check's evidence on the step; complete the step when it passed and the
    runbook lets the bot (open, past its gate). A failing check never reopens a step: a
    person decides that. Returns the status before and after, in the caller's transaction."""
    statuses = await _statuses(uow, tenant)
    approved = await approval_granted(uow, tenant.id, step_id)
    row = await _row(uow, tenant, step_id)
    before = statuses[step_id] = Status(row.status)  # as read under the row lock
    row.evidence = evidence.to_json()
    if passed and _bot_may_complete(step_id, statuses, approved):
        row.status = Status.DONE
        row.actor_id = actor_id
        row.changed_at = at
        record(uow, tenant, actor_id, "step.done", at, step_id, automated=True)
    return before, Status(row.status)


def _bot_may_complete(step_id: StepId, statuses: dict[StepId, Status], approved: bool) -> bool:
    """The runbook's rules, asked as the bot: open and past its gate (never reopens)."""
    try:
        after = next_status(step_id, Action.DONE, statuses, approved=approved, by=Actor.BOT)
        return after is Status.DONE
    except RunbookRefusal:
        return False


async def record_check(
    uow: UnitOfWork,
    tenant_id: int,
    step_id: StepId,
    passed: bool,
    evidence: Evidence,
    *,
    actor_id: str = BOT_ACTOR,
    now: datetime | None = None,
) -> StepChange | None:
    """An automated check run on request (the Re-check button), in its own transaction.
    None when the tenant is gone."""
    at = now_or_utcnow(now)
    async with uow:
        tenant = await uow.tenants.get_any(tenant_id)
        if tenant is None:
            return None
        before, after = await _apply_check(uow, tenant, step_id, passed, evidence, actor_id, at)
        await uow.commit()
        return StepChange(step_id, before, after, await load_status(uow, tenant))


async def record_dns_check(
    uow: UnitOfWork,
    tenant_id: int,
    audits: Sequence[Audit],
    *,
    actor_id: str = BOT_ACTOR,
    now: datetime | None = None,
) -> StepChange | None:
    """The `dns` step from audits of every domain of the tenant (all records but MX)."""
    at = now_or_utcnow(now)
    evidence = dns_step.evidence(audits, at)
    return await record_check(
        uow, tenant_id, StepId.DNS, evidence.passed, evidence, actor_id=actor_id, now=at
    )


async def complete_by_watch(
    uow: UnitOfWork, tenant_id: int, step_id: StepId, evidence: Evidence, at: datetime
) -> StepChange | None:
    """The watch saw a step's goal reached: the same check as Re-check, inside the watch's
    open transaction (no commit). When the step changed, the runbook message is edited
    through the outbox, since the watch has no Slack call of its own. None when the tenant
    is gone."""
    return await check_by_watch(uow, tenant_id, step_id, True, evidence, at)


async def check_by_watch(
    uow: UnitOfWork,
    tenant_id: int,
    step_id: StepId,
    passed: bool,
    evidence: Evidence,
    at: datetime,
) -> StepChange | None:
    """An automated check's new result, kept on the step whether it passed or not (the local
    autodiscover step shows what the internal server returns); completes the step when it
    passed. The runbook message is edited when the step or its evidence changed."""
    tenant = await uow.tenants.get_any(tenant_id)
    if tenant is None:
        return None
    before, after = await _apply_check(uow, tenant, step_id, passed, evidence, BOT_ACTOR, at)
    status = await load_status(uow, tenant)
    if before is not after or not passed:
        await _edit_runbook_later(uow, status, f"{step_id}:{after}", at)
    return StepChange(step_id, before, after, status)


async def _edit_runbook_later(
    uow: UnitOfWork, status: TenantStatus, change: str, at: datetime
) -> None:
    ref = await uow.messages.get(status.tenant.id, RUNBOOK)
    if ref is None:
        return  # never posted: `/transition status` shows it as it is now
    await enqueue(
        uow,
        Post(
            key=f"t{status.tenant.id}:runbook:{change}:{at.isoformat()}",
            tenant_id=status.tenant.id,
            channel_id=ref.channel_id,
            kind=RUNBOOK,
            text=status_text(status),
            # the member count needs a Slack call: the passwords line shows confirmations only
            blocks=[b.to_dict() for b in runbook_blocks(status, members=None)],
            edit_ts=ref.ts,
        ),
        at,
    )


async def assign_owner(
    uow: UnitOfWork,
    caller: Caller,
    step_text: str,
    owner_id: str | None,
    now: datetime | None = None,
) -> StepChange:
    """Make ``owner_id`` the person on a step (reminders name them); None clears it."""
    step_id = _step_id(step_text)
    at = now_or_utcnow(now)
    async with uow:
        tenant = await tenant_here(uow, caller, for_update=True)
        row = await _row(uow, tenant, step_id)
        status = Status(row.status)
        if status is Status.NOT_NEEDED:
            raise Refusal(
                f"*{runbook_step(step_id).title}* is not needed for this tenant.",
                "Nobody needs to own it.",
                code="cannot-assign",
            )
        row.owner_id = owner_id or None
        record(uow, tenant, caller.user_id, "step.assign", at, step_id, owner=owner_id or "")
        await uow.commit()
        return StepChange(step_id, status, status, await load_status(uow, tenant))


async def tenant_for_dns_check(uow: UnitOfWork, caller: Caller) -> TenantStatus:
    """The caller's tenant, to run its DNS check (the Re-check button)."""
    async with uow:
        return await load_status(uow, await tenant_here(uow, caller))
