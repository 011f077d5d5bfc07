"""Approval rules as a hypothesis state machine: random clicks by random people."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from bot.core.approvals import (
    ApprovalRefusal,
    Decision,
    RequestState,
    RequestStatus,
    Vote,
    VoteOutcome,
    check_can_request,
    decide,
)

PEOPLE = ["U1", "U2", "U3", "U4", "U5"]
AT = datetime(2026, 1, 1, tzinfo=UTC)


class ApprovalMachine(RuleBasedStateMachine):
    @initialize(
        approvers=st.sets(st.sampled_from(PEOPLE), min_size=1),
        requester=st.sampled_from(PEOPLE),
        needed=st.integers(min_value=1, max_value=4),
    )
    def open_request(self, approvers: set[str], requester: str, needed: int) -> None:
        self.grantable = True
        try:
            check_can_request(requester, approvers, needed)
        except ApprovalRefusal:
            self.grantable = False
        self.state = RequestState(requester, frozenset(approvers), needed, RequestStatus.OPEN)

    @rule(user=st.sampled_from(PEOPLE), decision=st.sampled_from(list(Decision)))
    def click(self, user: str, decision: Decision) -> None:
        before = self.state
        try:
            result = decide(before, user, decision)
        except ApprovalRefusal as refusal:
            assert refusal.reason and refusal.hint
            assert (
                user not in before.approvers
                or before.status is not RequestStatus.OPEN
                or user == before.requested_by
            )
            return
        if result.outcome is VoteOutcome.DUPLICATE:
            assert any(v.user_id == user for v in before.votes)
            return
        assert before.status is RequestStatus.OPEN
        self.state = RequestState(
            before.requested_by,
            before.approvers,
            before.needed,
            result.status,
            (*before.votes, Vote(user, decision, AT)),
        )

    @invariant()
    def votes_are_by_distinct_approvers(self) -> None:
        users = [v.user_id for v in self.state.votes]
        assert len(users) == len(set(users))
        assert set(users) <= self.state.approvers

    @invariant()
    def requester_never_votes(self) -> None:
        """Neither Approve nor Reject: the requester's own click never counts."""
        assert all(v.user_id != self.state.requested_by for v in self.state.votes)

    @invariant()
    def status_follows_the_votes(self) -> None:
        rejected = any(v.decision is Decision.REJECT for v in self.state.votes)
        approvals = len(self.state.approvals)
        if rejected:
            assert self.state.status is RequestStatus.REJECTED
            assert approvals < self.state.needed
        elif approvals >= self.state.needed:
            assert self.state.status is RequestStatus.APPROVED
            assert self.grantable
        else:
            assert self.state.status is RequestStatus.OPEN
        assert approvals <= self.state.needed


TestApprovalMachine = ApprovalMachine.TestCase
