"""The MX gate line of the runbook is built from the step's requirements and its approval
request, so it never says "then 2 approval(s)" once they were given."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from bot.blocks.runbook import step_text
from bot.core.approvals import Decision, RequestStatus, Vote
from bot.core.runbook import STEPS, Status, StepId, initial_statuses
from bot.services.views import (
    ApprovalView,
    DomainView,
    StepView,
    TenantStatus,
    TenantView,
)

AT = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
TENANT = TenantView(
    id=1,
    workspace_id=1,
    channel_id="C1",
    name="Contoso",
    domains=(DomainView("contoso.com", "contoso.com"),),
    time_zone="UTC",
    onprem_exchange=False,
    internal_dns_server=None,
    approvers=("UA", "UB", "UC"),
    approvals_needed=2,
    partner_id=None,
    created_by="UREQ",
    created_at=AT,
)


def status(request: ApprovalView | None = None, done: tuple[StepId, ...] = ()) -> TenantStatus:
    statuses = initial_statuses(False)
    steps = tuple(StepView(s, Status.DONE if s.id in done else statuses[s.id]) for s in STEPS)
    return TenantStatus(TENANT, steps, approvals=() if request is None else (request,))


def request(*votes: tuple[str, Decision], state: RequestStatus) -> ApprovalView:
    return ApprovalView(
        id=7,
        tenant_id=1,
        tenant_name="Contoso",
        step_id=StepId.MX,
        status=state,
        requested_by="UREQ",
        requested_at=AT,
        approvals_needed=2,
        approvers=frozenset(TENANT.approvers),
        votes=tuple(Vote(u, d, AT) for u, d in votes),
    )


def mx_line(s: TenantStatus) -> str:
    index = [v.step.id for v in s.steps].index(StepId.MX)
    text = step_text(index + 1, s.steps[index], s, None)
    return next(line for line in text.splitlines() if line.startswith("Gate:"))


def test_before_any_request_the_gate_names_what_is_missing() -> None:
    line = mx_line(status(done=(StepId.VERIFY_DATA,)))
    assert line == (
        "Gate: `verify-data` done, `dns` *not done* · 2 approval(s) needed — "
        "`/transition request mx`."
    )


def test_an_open_request_counts_its_approvals() -> None:
    half = request(("UA", Decision.APPROVE), state=RequestStatus.OPEN)
    line = mx_line(status(half, done=(StepId.VERIFY_DATA, StepId.DNS)))
    assert "1 of 2 approvals (approved by <@UA>), requested by <@UREQ>" in line
    assert "approval(s) needed" not in line


def test_a_granted_request_says_who_approved_and_what_completes_the_step() -> None:
    granted = request(
        ("UA", Decision.APPROVE), ("UB", Decision.APPROVE), state=RequestStatus.APPROVED
    )
    line = mx_line(status(granted, done=(StepId.VERIFY_DATA, StepId.DNS)))
    assert line.startswith("Gate: `verify-data` done, `dns` done · approved by <@UA>, <@UB>.")
    assert "The bot marks it done when every authoritative name server" in line
    assert "then 2 approval(s)" not in line and "needed" not in line


def test_a_rejected_request_says_who_rejected_and_how_to_ask_again() -> None:
    rejected = request(
        ("UA", Decision.APPROVE), ("UC", Decision.REJECT), state=RequestStatus.REJECTED
    )
    line = mx_line(status(rejected, done=(StepId.VERIFY_DATA, StepId.DNS)))
    assert "rejected by <@UC> — ask again with `/transition request mx`" in line


def test_an_optional_approval_shows_only_once_requested() -> None:
    lync = replace(request(state=RequestStatus.OPEN), step_id=StepId.LYNC)
    plain = status()
    index = [v.step.id for v in plain.steps].index(StepId.LYNC)
    assert "Approval" not in step_text(index + 1, plain.steps[index], plain, None)
    asked = status(lync)
    assert "Approval (optional): 0 of 2 approvals, requested by <@UREQ>" in step_text(
        index + 1, asked.steps[index], asked, None
    )
