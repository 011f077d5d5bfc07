from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from bot.core.approvals import Decision
from bot.core.runbook import Status, StepId
from bot.dnscheck.model import Audit, RecordResult, Verdict
from bot.services import approvals, steps
from bot.services.common import Refusal
from bot.services.history import history
from bot.services.tenants import tenant_status
from bot.services.views import TenantStatus
from storage.uow import UnitOfWork
from tests.services.conftest import ALICE, BOB, OTHER_TEAM, OWNER, caller

Uow = Callable[[], UnitOfWork]


def later() -> datetime:
    """A time after the tenant's start (audit order is by time)."""
    return datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=1)


def audit(domain: str, *failing: str, mx_ok: bool = False) -> Audit:
    ids = ["mx", "autodiscover", "spf", "verification", "sip", "lyncdiscover"]
    records = tuple(
        RecordResult(
            id=i,
            verdict=Verdict.MISSING if i in failing or (i == "mx" and not mx_ok) else Verdict.OK,
            name=domain,
            type="TXT",
            expected="",
            found=(),
            fix="",
        )
        for i in ids
    )
    return Audit(domain=domain, display_domain=domain, records=records)


async def test_done_records_who_and_when_and_history(
    uow_factory: Uow, started: TenantStatus
) -> None:
    now = later()
    change = await steps.complete_step(uow_factory(), caller(ALICE), "software", now=now)
    assert (change.before, change.after) == (Status.OPEN, Status.DONE)
    view = change.status.step(StepId.SOFTWARE)
    assert view.actor_id == ALICE and view.changed_at == now
    assert str(change.status.progress) == "1 of 8 done"
    events = await history(uow_factory(), caller())
    assert [e.action for e in events] == ["step.done", "tenant.start"]
    assert events[0].actor_id == ALICE and events[0].details["step"] == "software"


async def test_done_twice_is_refused_and_reopen_then_done_works(
    uow_factory: Uow, started: TenantStatus
) -> None:
    await steps.complete_step(uow_factory(), caller(), "software")
    with pytest.raises(Refusal) as refused:
        await steps.complete_step(uow_factory(), caller(ALICE), "software")
    assert "already done" in refused.value.message
    status = await tenant_status(uow_factory(), caller())
    assert status.step(StepId.SOFTWARE).actor_id == OWNER  # unchanged
    await steps.reopen_step(uow_factory(), caller(), "software")
    change = await steps.complete_step(uow_factory(), caller(ALICE), "software")
    assert change.after is Status.DONE


async def test_skip_needs_a_reason_and_keeps_it(uow_factory: Uow, started: TenantStatus) -> None:
    with pytest.raises(Refusal):
        await steps.skip_step(uow_factory(), caller(), "lync", "  ")
    change = await steps.skip_step(uow_factory(), caller(), "lync", "no Lync in this tenant")
    assert change.status.step(StepId.LYNC).note == "no Lync in this tenant"
    assert change.status.step(StepId.LYNC).status is Status.SKIPPED


async def test_not_needed_and_unknown_steps_are_refused(
    uow_factory: Uow, started: TenantStatus
) -> None:
    with pytest.raises(Refusal) as refused:
        await steps.complete_step(uow_factory(), caller(), "autodiscover-local")
    assert "not needed" in refused.value.message
    with pytest.raises(Refusal) as unknown:
        await steps.complete_step(uow_factory(), caller(), "coffee")
    assert unknown.value.code == "no-step" and "software" in unknown.value.message


async def test_mx_is_gated_by_data_dns_and_approvals(
    uow_factory: Uow, started: TenantStatus
) -> None:
    tenant_id = started.tenant.id
    with pytest.raises(Refusal) as cannot_request:
        await approvals.request_approval(uow_factory(), caller(), "mx")
    assert "verify-data" in cannot_request.value.message

    await steps.complete_step(uow_factory(), caller(), "verify-data")
    await steps.record_dns_check(uow_factory(), tenant_id, [audit("contoso.com")], now=later())
    # fabrikam.com was not checked yet -> only one domain's audit: passes with the one given
    request = await approvals.request_approval(uow_factory(), caller(), "mx")
    await approvals.vote(uow_factory(), caller(ALICE), tenant_id, request.id, Decision.APPROVE)
    await approvals.vote(uow_factory(), caller(BOB), tenant_id, request.id, Decision.APPROVE)
    # approved, and still no person may mark MX done: only the watch, once every
    # authoritative server serves the Microsoft 365 MX (tests/watch)
    with pytest.raises(Refusal) as by_hand:
        await steps.complete_step(uow_factory(), caller(), "mx")
    assert by_hand.value.code == "cannot-done"
    assert "The bot marks *Move MX* done when every authoritative" in by_hand.value.message
    status = await tenant_status(uow_factory(), caller())
    assert status.step(StepId.MX).status is Status.OPEN


async def test_dns_is_done_by_a_passing_check_only_and_may_be_skipped(
    uow_factory: Uow, started: TenantStatus
) -> None:
    tenant_id = started.tenant.id
    failing = [audit("contoso.com", "spf"), audit("fabrikam.com")]
    await steps.record_dns_check(uow_factory(), tenant_id, failing, now=later())
    with pytest.raises(Refusal) as by_hand:
        await steps.complete_step(uow_factory(), caller(), "dns")
    assert by_hand.value.code == "cannot-done"
    assert "The bot marks *DNS records* done" in by_hand.value.message
    assert "Re-check DNS" in by_hand.value.message and "skip" in by_hand.value.message
    status = await tenant_status(uow_factory(), caller())
    assert status.step(StepId.DNS).status is Status.OPEN
    assert [e.action for e in await history(uow_factory(), caller())] == ["tenant.start"]

    skipped = await steps.skip_step(uow_factory(), caller(), "dns", "DNS hosted by the customer")
    assert skipped.after is Status.SKIPPED
    await steps.reopen_step(uow_factory(), caller(), "dns")
    passing = [audit("contoso.com"), audit("fabrikam.com")]
    change = await steps.record_dns_check(uow_factory(), tenant_id, passing, now=later())
    assert change is not None and change.after is Status.DONE


async def test_dns_check_completes_the_step_only_when_every_domain_passes(
    uow_factory: Uow, started: TenantStatus
) -> None:
    tenant_id = started.tenant.id
    failing = [audit("contoso.com"), audit("fabrikam.com", "spf")]
    change = await steps.record_dns_check(uow_factory(), tenant_id, failing, now=later())
    assert change is not None and change.after is Status.OPEN
    evidence = change.status.step(StepId.DNS).evidence
    assert evidence is not None and evidence["passed"] is False
    assert evidence["domains"][1]["failing"] == ["spf"]

    passing = [audit("contoso.com"), audit("fabrikam.com")]  # MX not moved yet: still passes
    change = await steps.record_dns_check(uow_factory(), tenant_id, passing, now=later())
    assert change is not None and (change.before, change.after) == (Status.OPEN, Status.DONE)
    assert change.status.step(StepId.DNS).actor_id == "bot"

    again = await steps.record_dns_check(uow_factory(), tenant_id, failing, now=later())
    assert again is not None and again.after is Status.DONE  # a failing check never reopens


async def test_other_workspace_cannot_change_steps(uow_factory: Uow, started: TenantStatus) -> None:
    with pytest.raises(Refusal) as refused:
        await steps.complete_step(uow_factory(), caller(team=OTHER_TEAM), "software")
    assert refused.value.code == "no-tenant"
    status = await tenant_status(uow_factory(), caller())
    assert status.step(StepId.SOFTWARE).status is Status.OPEN
