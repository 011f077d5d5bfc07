"""What every service shares: who is asking, the typed refusal, loading the caller's tenant."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.core.runbook import StepId
from storage.models import AuditEvent, Tenant, Workspace
from storage.uow import UnitOfWork

BOT_ACTOR = "bot"


@dataclass(frozen=True)
class Caller:
    """Who asks, from where. ``team_id`` scopes every read and write."""

    team_id: str
    user_id: str
    channel_id: str = ""
    enterprise_id: str = ""


class Refusal(Exception):
    """The request is understood and not allowed; nothing was changed.

    ``reason`` says why, ``hint`` what to do next; ``code`` lets callers and tests tell kinds
    apart (``no-tenant``, ``not-approver``, ``already-done``, ...).
    """

    def __init__(self, reason: str, hint: str = "", *, code: str = "refused") -> None:
        super().__init__(reason)
        self.reason = reason
        self.hint = hint
        self.code = code

    @property
    def message(self) -> str:
        return f"{self.reason} {self.hint}".strip()

    def __str__(self) -> str:
        return self.message


def no_tenant_here() -> Refusal:
    return Refusal(
        "There is no transition in this channel.",
        "Start one with `/transition start contoso.com`, or run the command in the tenant's "
        "channel.",
        code="no-tenant",
    )


async def workspace_of(uow: UnitOfWork, caller: Caller) -> Workspace | None:
    if not caller.team_id:
        return None
    return await uow.workspaces.get(caller.team_id)


async def tenant_here(uow: UnitOfWork, caller: Caller, *, for_update: bool = False) -> Tenant:
    """The tenant bound to the caller's channel in the caller's workspace, or ``no-tenant``."""
    workspace = await workspace_of(uow, caller)
    if workspace is None or not caller.channel_id:
        raise no_tenant_here()
    tenant = await uow.tenants.by_channel(workspace.id, caller.channel_id, for_update=for_update)
    if tenant is None:
        raise no_tenant_here()
    return tenant


async def tenant_by_id(uow: UnitOfWork, caller: Caller, tenant_id: int) -> Tenant:
    """A tenant by id, only if it belongs to the caller's workspace (buttons carry the id)."""
    workspace = await workspace_of(uow, caller)
    tenant = None if workspace is None else await uow.tenants.get(workspace.id, tenant_id)
    if tenant is None:
        raise Refusal(
            "That transition is not in this workspace.",
            "Use `/transition status` in the tenant's channel.",
            code="no-tenant",
        )
    return tenant


def record(
    uow: UnitOfWork,
    tenant: Tenant,
    actor_id: str,
    action: str,
    at: datetime,
    step: StepId | str | None = None,
    **details: Any,
) -> None:
    """Add an audit event (committed with the change it describes)."""
    if step is not None:
        details["step"] = str(step)
    uow.audit.add(
        AuditEvent(
            workspace_id=tenant.workspace_id,
            tenant_id=tenant.id,
            actor_id=actor_id,
            action=action,
            at=at,
            details=details,
        )
    )
