from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from bot.core.approvals import Decision, RequestStatus, VoteOutcome
from bot.services import approvals, steps
from bot.services.common import Refusal
from bot.services.views import ApprovalView, TenantStatus
from storage.uow import UnitOfWork
from tests.services.conftest import ALICE, BOB, CAROL, MALLORY, OTHER_TEAM, caller, dns_passes

Uow = Callable[[], UnitOfWork]


@pytest.fixture
async def mx_request(uow_factory: Uow, started: TenantStatus) -> ApprovalView:
    await steps.complete_step(uow_factory(), caller(), "verify-data")
    await dns_passes(uow_factory(), started)
    return await approvals.request_approval(uow_factory(), caller(ALICE), "mx")


async def test_requester_and_strangers_do_not_count(
    uow_factory: Uow, mx_request: ApprovalView
) -> None:
    tid, rid = mx_request.tenant_id, mx_request.id
    with pytest.raises(Refusal) as own:
        await approvals.vote(uow_factory(), caller(ALICE), tid, rid, Decision.APPROVE)
    assert "your click does not count" in own.value.message
    with pytest.raises(Refusal) as own_reject:
        await approvals.vote(uow_factory(), caller(ALICE), tid, rid, Decision.REJECT)
    assert own_reject.value.code == "cannot-vote"
    assert "You asked for this approval" in own_reject.value.message
    assert "To withdraw it" in own_reject.value.message
    with pytest.raises(Refusal) as stranger:
        await approvals.vote(uow_factory(), caller(MALLORY), tid, rid, Decision.APPROVE)
    assert "not an approver" in stranger.value.message
    with pytest.raises(Refusal):
        await approvals.vote(
            uow_factory(), caller(BOB, team=OTHER_TEAM), tid, rid, Decision.APPROVE
        )
    view = await approvals.get_request(uow_factory(), caller(), tid, rid)
    assert view.votes == () and view.status is RequestStatus.OPEN


async def test_k_distinct_approvals_grant_and_second_click_is_noop(
    uow_factory: Uow, mx_request: ApprovalView
) -> None:
    tid, rid = mx_request.tenant_id, mx_request.id
    first = await approvals.vote(uow_factory(), caller(BOB), tid, rid, Decision.APPROVE)
    assert first.outcome is VoteOutcome.RECORDED and first.request.status is RequestStatus.OPEN
    again = await approvals.vote(uow_factory(), caller(BOB), tid, rid, Decision.APPROVE)
    assert again.outcome is VoteOutcome.DUPLICATE and len(again.request.votes) == 1
    second = await approvals.vote(uow_factory(), caller(CAROL), tid, rid, Decision.APPROVE)
    assert second.closed_now and second.request.status is RequestStatus.APPROVED
    assert [v.user_id for v in second.request.approvals] == [BOB, CAROL]
    with pytest.raises(Refusal) as again_request:
        await approvals.request_approval(uow_factory(), caller(BOB), "mx")
    assert again_request.value.code == "approved"


async def test_one_reject_closes(uow_factory: Uow, mx_request: ApprovalView) -> None:
    tid, rid = mx_request.tenant_id, mx_request.id
    await approvals.vote(uow_factory(), caller(BOB), tid, rid, Decision.APPROVE)
    rejected = await approvals.vote(uow_factory(), caller(CAROL), tid, rid, Decision.REJECT)
    assert rejected.closed_now and rejected.request.status is RequestStatus.REJECTED
    with pytest.raises(Refusal) as late:
        await approvals.vote(uow_factory(), caller(ALICE), tid, rid, Decision.REJECT)
    assert "already rejected" in late.value.message
    # a new request can be made after a rejection
    again = await approvals.request_approval(uow_factory(), caller(BOB), "mx")
    assert again.id != rid and again.status is RequestStatus.OPEN


async def test_two_clicks_in_flight_record_one_vote(
    uow_factory: Uow, mx_request: ApprovalView
) -> None:
    tid, rid = mx_request.tenant_id, mx_request.id
    results = await asyncio.gather(
        *(approvals.vote(uow_factory(), caller(BOB), tid, rid, Decision.APPROVE) for _ in range(4))
    )
    assert sorted(r.outcome for r in results).count(VoteOutcome.RECORDED) == 1
    view = await approvals.get_request(uow_factory(), caller(), tid, rid)
    assert [v.user_id for v in view.votes] == [BOB]


async def test_two_approvers_at_once_both_count_and_grant(
    uow_factory: Uow, mx_request: ApprovalView
) -> None:
    tid, rid = mx_request.tenant_id, mx_request.id
    await asyncio.gather(
        approvals.vote(uow_factory(), caller(BOB), tid, rid, Decision.APPROVE),
        approvals.vote(uow_factory(), caller(CAROL), tid, rid, Decision.APPROVE),
    )
    view = await approvals.get_request(uow_factory(), caller(), tid, rid)
    assert view.status is RequestStatus.APPROVED and len(view.approvals) == 2


async def test_request_needs_enough_other_approvers(
    uow_factory: Uow, started: TenantStatus
) -> None:
    await steps.complete_step(uow_factory(), caller(), "verify-data")
    await dns_passes(uow_factory(), started)
    # lync is optional-approval and has no gate; the tenant needs 2 of (ALICE, BOB, CAROL)
    view = await approvals.request_approval(uow_factory(), caller(ALICE), "lync")
    assert view.approvals_needed == 2
    with pytest.raises(Refusal) as dup:
        await approvals.request_approval(uow_factory(), caller(ALICE), "lync")
    assert dup.value.code == "already-requested"
    with pytest.raises(Refusal) as not_gated:
        await approvals.request_approval(uow_factory(), caller(ALICE), "software")
    assert "does not take approvals" in not_gated.value.message
