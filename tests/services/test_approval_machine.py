"""Approvals on a real database, driven by hypothesis: random people click Approve / Reject
(sometimes twice at once); the stored request always matches the pure rules' model."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Coroutine
from typing import Any, TypeVar

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from bot.core.approvals import ApprovalRefusal, Decision, RequestState, Vote, VoteOutcome, decide
from bot.core.tenant_form import TenantForm, validate
from bot.services import approvals, steps
from bot.services.common import Caller, Refusal
from bot.services.tenants import start_tenant
from bot.services.views import ApprovalView
from storage.database import Database
from tests.services.conftest import dns_passes

T = TypeVar("T")
PEOPLE = ["U1", "U2", "U3", "U4", "U5"]
TEAM = "T0MACHINE"
_channels = itertools.count()


def make_machine(database_url: str) -> type[RuleBasedStateMachine]:
    class StoredApprovals(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.loop = asyncio.new_event_loop()
            self.db = Database(database_url)
            self.channel = f"C{next(_channels):06d}"
            self.request: ApprovalView | None = None
            self.model: RequestState | None = None

        def run(self, coro: Coroutine[Any, Any, T]) -> T:
            return self.loop.run_until_complete(coro)

        def caller(self, user: str) -> Caller:
            return Caller(TEAM, user, self.channel)

        @initialize(
            approvers=st.sets(st.sampled_from(PEOPLE[:4]), min_size=1),
            needed=st.integers(min_value=1, max_value=3),
            requester=st.sampled_from(PEOPLE),
        )
        def open_request(self, approvers: set[str], needed: int, requester: str) -> None:
            needed = min(needed, len(approvers))
            form = validate(
                TenantForm(
                    domains="contoso.com",
                    approvers=tuple(sorted(approvers)),
                    approvals_needed=str(needed),
                )
            )
            status = self.run(start_tenant(self.db.uow(), self.caller(requester), form))
            self.run(steps.complete_step(self.db.uow(), self.caller(requester), "verify-data"))
            self.run(dns_passes(self.db.uow(), status))
            try:
                self.request = self.run(
                    approvals.request_approval(self.db.uow(), self.caller(requester), "mx")
                )
            except Refusal:
                assert len(approvers - {requester}) < needed
                return
            self.model = self.request.state()

        def _vote(self, user: str, decision: Decision) -> None:
            assert self.request is not None and self.model is not None
            try:
                expected = decide(self.model, user, decision)
            except ApprovalRefusal:
                expected = None
            try:
                got = self.run(
                    approvals.vote(
                        self.db.uow(),
                        self.caller(user),
                        self.request.tenant_id,
                        self.request.id,
                        decision,
                    )
                )
            except Refusal:
                assert expected is None
                return
            assert expected is not None and got.outcome is expected.outcome
            if expected.outcome is VoteOutcome.RECORDED:
                votes = (*self.model.votes, Vote(user, decision, got.request.votes[-1].at))
                self.model = RequestState(
                    self.model.requested_by,
                    self.model.approvers,
                    self.model.needed,
                    expected.status,
                    votes,
                )

        @rule(user=st.sampled_from(PEOPLE), decision=st.sampled_from(list(Decision)))
        def click(self, user: str, decision: Decision) -> None:
            if self.request is not None:
                self._vote(user, decision)

        @rule(user=st.sampled_from(PEOPLE))
        def double_click(self, user: str) -> None:
            """Two Approve clicks by one person in flight at once: at most one vote."""
            if self.request is None:
                return
            before = len(self.run(self._stored()).votes)

            async def both() -> list[Any]:
                assert self.request is not None
                return await asyncio.gather(
                    *(
                        approvals.vote(
                            self.db.uow(),
                            self.caller(user),
                            self.request.tenant_id,
                            self.request.id,
                            Decision.APPROVE,
                        )
                        for _ in range(2)
                    ),
                    return_exceptions=True,
                )

            results = self.run(both())
            recorded = [
                r
                for r in results
                if not isinstance(r, BaseException) and r.outcome is VoteOutcome.RECORDED
            ]
            assert len(recorded) <= 1
            assert not [
                r for r in results if isinstance(r, Exception) and not isinstance(r, Refusal)
            ]
            stored = self.run(self._stored())
            assert len(stored.votes) - before == len(recorded)
            self.model = stored.state()

        async def _stored(self) -> ApprovalView:
            assert self.request is not None
            return await approvals.get_request(
                self.db.uow(), self.caller(PEOPLE[0]), self.request.tenant_id, self.request.id
            )

        @invariant()
        def stored_matches_model(self) -> None:
            if self.request is None or self.model is None:
                return
            stored = self.run(self._stored())
            assert stored.status is self.model.status
            assert [(v.user_id, v.decision) for v in stored.votes] == [
                (v.user_id, v.decision) for v in self.model.votes
            ]

        def teardown(self) -> None:
            self.run(self.db.dispose())
            self.loop.close()

    return StoredApprovals


def test_stored_approvals_follow_the_rules(database_url: str) -> None:
    run_state_machine_as_test(
        make_machine(database_url),
        settings=settings(
            max_examples=15,
            stateful_step_count=8,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
