"""Use cases of the mailbox data step: what the step stands on, saving Graph credentials
(encrypted, admins only), and a person's "I see my mail in OWA" (through the step service).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.core.clock import now_or_utcnow
from bot.core.runbook import Status, StepId
from bot.mailbox.form import GraphForm
from bot.ops.secrets import SecretBox
from bot.services import steps
from bot.services.common import Caller, Refusal, record, tenant_by_id, tenant_here
from bot.services.steps import StepChange
from storage.graph_credentials import NewGraphCredential
from storage.models import Tenant
from storage.uow import UnitOfWork

VERIFY_NOTE = "seen in OWA"


@dataclass(frozen=True)
class MailboxSetup:
    tenant_id: int
    tenant_name: str
    time_zone: str
    status: Status  # of the verify-data step
    done_by: str | None
    done_at: datetime | None
    client_id: str | None  # Graph app of the automatic check; None: manual path only
    credentials_set_by: str | None = None
    credentials_set_at: datetime | None = None

    @property
    def automatic(self) -> bool:
        return self.client_id is not None


def not_admin() -> Refusal:
    return Refusal(
        "Only a workspace admin or owner can enter Microsoft Graph credentials.",
        "Ask an admin to click *Set up automatic check*, or confirm by hand with "
        "*I see my mail in OWA*.",
        code="not-admin",
    )


def admin_unknown() -> Refusal:
    return Refusal(
        "I could not check with Slack that you are a workspace admin (Slack is busy).",
        "Try again in a moment; nothing was changed.",
        code="admin-unknown",
    )


async def _setup(uow: UnitOfWork, tenant: Tenant) -> MailboxSetup:
    row = await uow.steps.get(tenant.id, StepId.VERIFY_DATA)
    creds = await uow.credentials.get(tenant.id)
    return MailboxSetup(
        tenant_id=tenant.id,
        tenant_name=tenant.name,
        time_zone=tenant.time_zone,
        status=Status(row.status) if row is not None else Status.OPEN,
        done_by=row.actor_id if row is not None and row.status == Status.DONE else None,
        done_at=row.changed_at if row is not None and row.status == Status.DONE else None,
        client_id=creds.client_id if creds is not None else None,
        credentials_set_by=creds.set_by if creds is not None else None,
        credentials_set_at=creds.set_at if creds is not None else None,
    )


async def mailbox_setup(uow: UnitOfWork, caller: Caller) -> MailboxSetup:
    """The verify-data step of the caller's channel's tenant."""
    async with uow:
        return await _setup(uow, await tenant_here(uow, caller))


async def save_graph_credentials(
    uow: UnitOfWork,
    caller: Caller,
    tenant_id: int,
    form: GraphForm,
    box: SecretBox,
    *,
    is_admin: bool,
    now: datetime | None = None,
) -> MailboxSetup:
    """Store the tenant's Graph app with its secret encrypted; poll the tenant soon."""
    if not is_admin:
        raise not_admin()
    at = now_or_utcnow(now)
    async with uow:
        tenant = await tenant_by_id(uow, caller, tenant_id)
        await uow.credentials.put(
            NewGraphCredential(
                tenant_id=tenant.id,
                azure_tenant_id=form.azure_tenant_id,
                client_id=form.client_id,
                secret_encrypted=box.encrypt(form.client_secret),
                addresses=tuple(form.addresses),
                required_share=form.required_share,
                set_by=caller.user_id,
                set_at=at,
            )
        )
        await uow.polls.sooner(tenant.id, at)
        record(
            uow,
            tenant,
            caller.user_id,
            "mailbox.credentials",
            at,
            StepId.VERIFY_DATA,
            azure_tenant_id=form.azure_tenant_id,
            client_id=form.client_id,
            mailboxes=len(form.addresses) or "all",
        )
        await uow.commit()
        return await _setup(uow, tenant)


async def confirm_mail_seen(
    uow: UnitOfWork, caller: Caller, now: datetime | None = None
) -> tuple[StepChange, MailboxSetup]:
    """A person saw the mail in OWA: the verify-data step is done, with who and when."""
    change = await steps.complete_step(uow, caller, StepId.VERIFY_DATA.value, VERIFY_NOTE, now)
    return change, await mailbox_setup(uow, caller)
