"""Helpers for service tests: a started tenant in a channel, callers from two workspaces."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bot.core.tenant_form import TenantForm, ValidTenant, validate
from bot.services.common import Caller
from bot.services.steps import record_dns_check
from bot.services.tenants import start_tenant
from bot.services.views import TenantStatus
from storage.uow import UnitOfWork
from tests.watch.audits import audit

TEAM, OTHER_TEAM = "T0001", "T0002"
CHANNEL = "C0001"
OWNER, ALICE, BOB, CAROL, MALLORY = "U0OWNER", "U0ALICE", "U0BOB", "U0CAROL", "U0MALLORY"


def caller(user: str = OWNER, channel: str = CHANNEL, team: str = TEAM) -> Caller:
    return Caller(team_id=team, user_id=user, channel_id=channel)


def form(**overrides: object) -> ValidTenant:
    values: dict[str, object] = {
        "name": "Contoso",
        "domains": "contoso.com fabrikam.com",
        "time_zone": "Europe/Berlin",
        "approvers": (ALICE, BOB, CAROL),
        "approvals_needed": "2",
    }
    values.update(overrides)
    return validate(TenantForm(**values))  # type: ignore[arg-type]


@pytest.fixture
async def started(uow_factory: Callable[[], UnitOfWork]) -> TenantStatus:
    return await start_tenant(uow_factory(), caller(), form())


async def dns_passes(uow: UnitOfWork, status: TenantStatus) -> None:
    """The bot's DNS check passes for every domain: the only way `dns` gets done."""
    audits = [audit(d.ascii) for d in status.tenant.domains]
    await record_dns_check(uow, status.tenant.id, audits)
