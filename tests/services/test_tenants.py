from __future__ import annotations

from collections.abc import Callable

import pytest

from bot.core.runbook import Status, StepId
from bot.services.common import Refusal
from bot.services.tenants import check_can_start, list_tenants, start_tenant, tenant_status
from bot.services.views import TenantStatus
from storage.uow import UnitOfWork
from tests.services.conftest import CHANNEL, OTHER_TEAM, OWNER, caller, form

Uow = Callable[[], UnitOfWork]


async def test_start_binds_the_tenant_to_the_channel_with_its_runbook(
    uow_factory: Uow, started: TenantStatus
) -> None:
    status = await tenant_status(uow_factory(), caller())
    assert status.tenant.name == "Contoso"
    assert status.tenant.channel_id == CHANNEL
    assert [d.ascii for d in status.tenant.domains] == ["contoso.com", "fabrikam.com"]
    assert status.tenant.created_by == OWNER
    assert [s.step.id for s in status.steps] == list(StepId)
    assert status.step(StepId.AUTODISCOVER_LOCAL).status is Status.NOT_NEEDED
    assert str(status.progress) == "0 of 8 done"
    assert status.next_step is not None and status.next_step.id is StepId.SOFTWARE


async def test_onprem_tenant_needs_local_autodiscover(uow_factory: Uow) -> None:
    valid = form(onprem_exchange=True, internal_dns_server="10.0.0.53")
    status = await start_tenant(uow_factory(), caller(), valid)
    assert status.step(StepId.AUTODISCOVER_LOCAL).status is Status.OPEN
    assert str(status.progress) == "0 of 9 done"
    assert status.tenant.internal_dns_server == "10.0.0.53"


async def test_second_start_in_the_channel_is_refused_and_changes_nothing(
    uow_factory: Uow, started: TenantStatus
) -> None:
    with pytest.raises(Refusal) as refused:
        await start_tenant(uow_factory(), caller(), form(name="Other"))
    assert refused.value.code == "already-started"
    assert "/transition status" in refused.value.message
    with pytest.raises(Refusal):
        await check_can_start(uow_factory(), caller())
    assert (await tenant_status(uow_factory(), caller())).tenant.name == "Contoso"


async def test_another_workspace_sees_no_tenant_and_can_start_its_own(
    uow_factory: Uow, started: TenantStatus
) -> None:
    stranger = caller(team=OTHER_TEAM)
    with pytest.raises(Refusal) as refused:
        await tenant_status(uow_factory(), stranger)
    assert refused.value.code == "no-tenant"
    assert await list_tenants(uow_factory(), stranger) == []
    await check_can_start(uow_factory(), stranger)  # same channel id, other workspace: free
    theirs = await start_tenant(uow_factory(), stranger, form(name="Northwind"))
    assert theirs.tenant.name == "Northwind"
    mine = await list_tenants(uow_factory(), caller())
    assert [s.tenant.name for s in mine] == ["Contoso"]


async def test_list_tenants_gives_progress_and_next_step(
    uow_factory: Uow, started: TenantStatus
) -> None:
    await start_tenant(uow_factory(), caller(channel="C0002"), form(name="Adatum"))
    summaries = await list_tenants(uow_factory(), caller())
    assert [s.tenant.name for s in summaries] == ["Adatum", "Contoso"]
    assert all(str(s.progress) == "0 of 8 done" for s in summaries)
    assert all(s.next_step is not None and s.next_step.id is StepId.SOFTWARE for s in summaries)
