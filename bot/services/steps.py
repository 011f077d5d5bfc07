"""Mark runbook steps done / skipped / reopened, and record automated checks.

The rules (what may change, the MX gate) are bot.core.runbook's; this module loads, asks, writes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.blocks.runbook import runbook_blocks, status_text
from bot.core import dns_step
from bot.core.approvals import RequestStatus
from bot.core.clock import now_or_utcnow
from bot.core.evidence import Evidence
from bot.core.runbook import (
    APPROVABLE,
    Action,
    Actor,
    RunbookRefusal,
    Status,
    StepId,
    check_skip,
    next_status,
)
from bot.core.runbook import step as runbook_step
from bot.dnscheck.model import Audit
from bot.outbox.enqueue import Post, enqueue_many
from bot.services.common import (
    BOT_ACTOR,
    Caller,
    Refusal,
    record,
    tenant_by_id,
    tenant_here,
)
from bot.services.messages import RUNBOOK
from bot.services.tenants import load_status, status_of
from bot.services.views import TenantStatus
from storage.models import ApprovalRequest, SlackMessage, StepState, Tenant
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


def _statuses_of(rows: Iterable[StepState]) -> dict[StepId, Status]:
    return {StepId(r.step_id): Status(r.status) for r in rows}


async def _statuses(uow: UnitOfWork, tenant: Tenant) -> dict[StepId, Status]:
    return _statuses_of(await uow.steps.for_tenant(tenant.id))


def _open_row(uow: UnitOfWork, tenant_id: int, step_id: StepId) -> StepState:
    """The row of a step added to the runbook after this tenant started: open."""
    row = StepState(tenant_id=tenant_id, step_id=step_id, status=Status.OPEN)
    uow.steps.add(row)
    return row


async def _row(uow: UnitOfWork, tenant: Tenant, step_id: StepId) -> StepState:
    row = await uow.steps.get(tenant.id, step_id, for_update=True)
    return row if row is not None else _open_row(uow, tenant.id, step_id)


def _granted(latest: ApprovalRequest | None) -> bool:
    """Whether a step's latest approval request lets it go ahead."""
    return latest is not None and latest.status == RequestStatus.APPROVED


async def approval_granted(uow: UnitOfWork, tenant_id: int, step_id: StepId) -> bool:
    return _granted(await uow.approvals.latest(tenant_id, step_id))


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


@dataclass(frozen=True)
class AutomatedCheck:
    """An automated check's result for one step of one tenant (the watch's, Re-check's)."""

    tenant_id: int
    step_id: StepId
    passed: bool
    evidence: Evidence
    at: datetime  # when it was checked


@dataclass
class _Runbook:
    """A tenant's rows that checks read and change, loaded for many tenants at once."""

    tenant: Tenant
    rows: dict[str, StepState]  # by step id
    approvals: dict[str, ApprovalRequest]  # the latest request of each step
    acked: set[str]  # who confirmed the passwords step
    message: SlackMessage | None  # the runbook message, if posted

    def row(self, uow: UnitOfWork, step_id: StepId) -> StepState:
        row = self.rows.get(step_id)
        if row is None:
            row = self.rows[step_id] = _open_row(uow, self.tenant.id, step_id)
        return row

    def status(self) -> TenantStatus:
        requests = (self.approvals.get(step_id) for step_id in APPROVABLE)
        return status_of(self.tenant, self.rows.values(), self.acked, requests)


async def _runbooks(uow: UnitOfWork, checks: Sequence[AutomatedCheck]) -> dict[int, _Runbook]:
    """The rows of every tenant the checks concern, a few queries in all (each checked step's
    row locked first, as ``_row`` locks it); a tenant that is gone is left out."""
    tenants = await uow.tenants.get_many(list(dict.fromkeys(c.tenant_id for c in checks)))
    ids = [t.id for t in tenants]
    await uow.steps.lock(list(dict.fromkeys((c.tenant_id, str(c.step_id)) for c in checks)))
    rows: dict[int, dict[str, StepState]] = {}
    for row in await uow.steps.for_tenants(ids):
        rows.setdefault(row.tenant_id, {})[row.step_id] = row
    steps = list(dict.fromkeys([*APPROVABLE, *(c.step_id for c in checks)]))
    approvals = await uow.approvals.latest_of_tenants(ids, steps)
    acked = await uow.acks.acked_users_of(ids, StepId.PASSWORDS)
    messages = await uow.messages.of_tenants(ids, RUNBOOK)
    return {
        t.id: _Runbook(
            tenant=t,
            rows=rows.get(t.id, {}),
            approvals=approvals.get(t.id, {}),
            acked=acked.get(t.id, set()),
            message=messages.get(t.id),
        )
        for t in tenants
    }


def _apply_check(
    uow: UnitOfWork, book: _Runbook, check: AutomatedCheck, actor_id: str
) -> tuple[Status, Status]:
    """Keep the check's evidence on the step; complete the step when it passed and the
    runbook lets the bot (open, past its gate). A failing check never reopens a step: a
    person decides that. Returns the status before and after, in the caller's transaction."""
    step_id, at = check.step_id, check.at
    statuses = _statuses_of(book.rows.values())
    approved = _granted(book.approvals.get(step_id))
    row = book.row(uow, step_id)
    before = statuses[step_id] = Status(row.status)  # as read under the row lock
    row.evidence = check.evidence.to_json()
    if check.passed and _bot_may_complete(step_id, statuses, approved):
        row.status = Status.DONE
        row.actor_id = actor_id
        row.changed_at = at
        record(uow, book.tenant, actor_id, "step.done", at, step_id, automated=True)
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
    check = AutomatedCheck(tenant_id, step_id, passed, evidence, at)
    async with uow:
        book = (await _runbooks(uow, [check])).get(tenant_id)
        if book is None:
            return None
        before, after = _apply_check(uow, book, check, actor_id)
        await uow.commit()
        return StepChange(step_id, before, after, book.status())


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


async def checks_by_watch(
    uow: UnitOfWork, checks: Sequence[AutomatedCheck]
) -> list[StepChange | None]:
    """Automated checks' new results, in the watch's open transaction (no commit), as if
    applied one after the other: each kept on its step whether it passed or not (the local
    autodiscover step shows what the internal server returns), completing the step when it
    passed. The runbook message is edited through the outbox when the step or its evidence
    changed, since the watch has no Slack call of its own. The rows of every tenant are read
    in a few queries (a first sweep checks every tenant). One change per check, None when
    the tenant is gone."""
    if not checks:
        return []
    books = await _runbooks(uow, checks)
    changes: list[StepChange | None] = []
    edits: dict[datetime, list[Post]] = {}  # by when each is due: its check's time
    for check in checks:
        book = books.get(check.tenant_id)
        if book is None:
            changes.append(None)
            continue
        before, after = _apply_check(uow, book, check, BOT_ACTOR)
        status = book.status()
        if (before is not after or not check.passed) and book.message is not None:
            edit = _runbook_edit(book.message, status, f"{check.step_id}:{after}", check.at)
            edits.setdefault(check.at, []).append(edit)
        changes.append(StepChange(check.step_id, before, after, status))
    for at, posts in edits.items():
        await enqueue_many(uow, posts, at)
    return changes


def _runbook_edit(message: SlackMessage, status: TenantStatus, change: str, at: datetime) -> Post:
    return Post(
        key=f"t{status.tenant.id}:runbook:{change}:{at.isoformat()}",
        tenant_id=status.tenant.id,
        channel_id=message.channel_id,
        kind=RUNBOOK,
        text=status_text(status),
        # the member count needs a Slack call: the passwords line shows confirmations only
        blocks=[b.to_dict() for b in runbook_blocks(status, members=None)],
        edit_ts=message.ts,
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
