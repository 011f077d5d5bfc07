"""Approval rules (pure): who may vote, what a vote does to a request.

- only the tenant's approvers vote; anyone else is refused;
- the requester's own click, Approve or Reject, does not count (refused, so they know);
- a person's second click is a no-op;
- K distinct approvals grant the request; one Reject closes it.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Decision(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"


class RequestStatus(StrEnum):
    OPEN = "open"
    APPROVED = "approved"
    REJECTED = "rejected"


class VoteOutcome(StrEnum):
    RECORDED = "recorded"  # counted; the request may still be open
    DUPLICATE = "duplicate"  # this person already voted: nothing changed


@dataclass(frozen=True)
class Vote:
    user_id: str
    decision: Decision
    at: datetime


@dataclass(frozen=True)
class RequestState:
    requested_by: str
    approvers: frozenset[str]
    needed: int
    status: RequestStatus
    votes: tuple[Vote, ...] = ()

    @property
    def approvals(self) -> tuple[Vote, ...]:
        return tuple(v for v in self.votes if v.decision is Decision.APPROVE)


class ApprovalRefusal(Exception):
    def __init__(self, reason: str, hint: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.hint = hint


@dataclass(frozen=True)
class VoteResult:
    outcome: VoteOutcome
    status: RequestStatus  # the request's status after the vote


def check_can_request(requested_by: str, approvers: Collection[str], needed: int) -> None:
    """A request must be grantable: K approvers other than the requester must exist."""
    others = set(approvers) - {requested_by}
    if len(others) < needed:
        raise ApprovalRefusal(
            f"This needs {needed} approval(s) from approvers other than the requester, "
            f"and the tenant has {len(others)}.",
            "Ask another approver to make the request, or add approvers to the tenant.",
        )


def decide(state: RequestState, user_id: str, decision: Decision) -> VoteResult:
    """What ``user_id`` clicking ``decision`` does; ApprovalRefusal when it may not count."""
    if any(v.user_id == user_id for v in state.votes):
        return VoteResult(VoteOutcome.DUPLICATE, state.status)
    if state.status is not RequestStatus.OPEN:
        raise ApprovalRefusal(
            f"This request is already {state.status.value}.",
            "Make a new request if it is still needed.",
        )
    if user_id not in state.approvers:
        raise ApprovalRefusal(
            "You are not an approver for this tenant.",
            "Ask one of the tenant's approvers to decide.",
        )
    if user_id == state.requested_by:
        # Neither way: a requester's Reject would close the request alone, unaudited as a
        # withdrawal; the approvers decide.
        raise ApprovalRefusal(
            "You asked for this approval, so your click does not count.",
            "Other approvers decide it. To withdraw it, ask one of them to Reject it.",
        )
    if decision is Decision.REJECT:
        return VoteResult(VoteOutcome.RECORDED, RequestStatus.REJECTED)
    approvals = len(state.approvals) + 1
    status = RequestStatus.APPROVED if approvals >= state.needed else RequestStatus.OPEN
    return VoteResult(VoteOutcome.RECORDED, status)
