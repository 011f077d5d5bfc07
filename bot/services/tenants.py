"""Start a tenant in a channel; read where it stands; list a workspace's tenants."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError

from bot.core.clock import now_or_utcnow
from bot.core.runbook import APPROVABLE, Progress, Step, StepId, initial_statuses
from bot.core.tenant_form import ValidTenant
from bot.services.common import Caller, Refusal, record, tenant_here, workspace_of
from bot.services.views import (
    TenantStatus,
    TenantView,
    approval_view,
    step_views,
    tenant_view,
)
from storage.models import ApprovalRequest, StepState, Tenant, TenantApprover, TenantDomain
from storage.uow import UnitOfWork


def already_started(tenant: Tenant) -> Refusal:
    return Refusal(
        f"This channel already runs the transition of *{tenant.name}*.",
        "See where it stands with `/transition status` (one tenant per channel).",
        code="already-started",
    )


def _raced() -> Refusal:
    return Refusal(
        "Another transition was just started in this channel.",
        "See it with `/transition status`.",
        code="already-started",
    )


async def check_can_start(uow: UnitOfWork, caller: Caller) -> None:
    """Refuse early when the channel already has a tenant (the submit checks again)."""
    async with uow:
        workspace = await workspace_of(uow, caller)
        if workspace is None:
            return
        tenant = await uow.tenants.by_channel(workspace.id, caller.channel_id)
        if tenant is not None:
            raise already_started(tenant)


async def start_tenant(
    uow: UnitOfWork, caller: Caller, form: ValidTenant, now: datetime | None = None
) -> TenantStatus:
    """Bind a new tenant to the caller's channel with its runbook, all steps open (or not
    needed). Refused when the channel already has one — also when two submits race."""
    if not caller.channel_id:
        raise Refusal("Start a transition from a channel.", code="no-channel")
    at = now_or_utcnow(now)
    async with uow:
        workspace = await uow.workspaces.get_or_create(caller.team_id, caller.enterprise_id)
        existing = await uow.tenants.by_channel(workspace.id, caller.channel_id)
        if existing is not None:
            raise already_started(existing)
        tenant = Tenant(
            workspace_id=workspace.id,
            channel_id=caller.channel_id,
            name=form.name,
            primary_domain=form.domains[0].ascii,
            time_zone=form.time_zone,
            onprem_exchange=form.onprem_exchange,
            internal_dns_server=form.internal_dns_server,
            approvals_needed=form.approvals_needed,
            partner_id=form.partner_id,
            source=form.source,
            created_by=caller.user_id,
            created_at=at,
            domains=[
                TenantDomain(domain=d.ascii, display=d.unicode, position=i)
                for i, d in enumerate(form.domains)
            ],
            approvers=[TenantApprover(user_id=u) for u in form.approvers],
        )
        uow.tenants.add(tenant)
        try:
            await uow.flush()
        except IntegrityError:  # another start in this channel committed first
            raise _raced() from None
        for step_id, status in initial_statuses(form.onprem_exchange).items():
            uow.steps.add(StepState(tenant_id=tenant.id, step_id=step_id, status=status))
        record(
            uow,
            tenant,
            caller.user_id,
            "tenant.start",
            at,
            name=form.name,
            domains=[d.ascii for d in form.domains],
        )
        try:
            await uow.commit()
        except IntegrityError:
            raise _raced() from None
    return await tenant_status(uow, caller)


async def load_status(uow: UnitOfWork, tenant: Tenant) -> TenantStatus:
    """Inside an open unit of work: the tenant's status from its rows."""
    rows = await uow.steps.for_tenant(tenant.id)
    acked = await uow.acks.users(tenant.id, StepId.PASSWORDS)
    requests = [await uow.approvals.latest(tenant.id, step_id) for step_id in APPROVABLE]
    return status_of(tenant, rows, acked, requests)


def status_of(
    tenant: Tenant,
    rows: Iterable[StepState],
    acked: Iterable[str],
    requests: Iterable[ApprovalRequest | None],
) -> TenantStatus:
    """The tenant's status from its rows already loaded: its steps, who confirmed the
    passwords step, and the latest request of each step in ``APPROVABLE`` (in that order)."""
    return TenantStatus(
        tenant_view(tenant),
        step_views(list(rows)),
        frozenset(acked),
        tuple(approval_view(r, tenant) for r in requests if r is not None),
    )


async def tenant_status(uow: UnitOfWork, caller: Caller) -> TenantStatus:
    async with uow:
        tenant = await tenant_here(uow, caller)
        return await load_status(uow, tenant)


async def tenant_status_by_id(uow: UnitOfWork, tenant_id: int) -> TenantStatus | None:
    """For background jobs (reminders, the watch), which act within the tenant's workspace."""
    async with uow:
        tenant = await uow.tenants.get_any(tenant_id)
        return None if tenant is None else await load_status(uow, tenant)


@dataclass(frozen=True)
class TenantSummary:
    tenant: TenantView
    progress: Progress
    next_step: Step | None


async def list_tenants(uow: UnitOfWork, caller: Caller) -> list[TenantSummary]:
    """Every tenant of the caller's workspace (App Home), by name."""
    async with uow:
        workspace = await workspace_of(uow, caller)
        if workspace is None:
            return []
        tenants = await uow.tenants.list(workspace.id)
        rows = await uow.steps.for_tenants([t.id for t in tenants])
        summaries = []
        for tenant in tenants:
            status = TenantStatus(
                tenant_view(tenant), step_views([r for r in rows if r.tenant_id == tenant.id])
            )
            summaries.append(TenantSummary(status.tenant, status.progress, status.next_step))
        return summaries
