"""The runbook's rules, as examples and as a hypothesis state machine."""

from __future__ import annotations

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from bot.core.runbook import (
    STEPS,
    Action,
    Actor,
    RunbookRefusal,
    Status,
    StepId,
    check_request,
    initial_statuses,
    next_status,
    next_step,
    progress,
)


def test_the_guides_eight_steps_in_order_then_cleanup() -> None:
    assert [s.id.value for s in STEPS] == [
        "software",
        "passwords",
        "dns",
        "verify-data",
        "mx",
        "autodiscover-local",
        "lync",
        "partner",
        "cleanup",
    ]


def test_local_autodiscover_applies_only_with_onprem() -> None:
    assert initial_statuses(False)[StepId.AUTODISCOVER_LOCAL] is Status.NOT_NEEDED
    assert initial_statuses(True)[StepId.AUTODISCOVER_LOCAL] is Status.OPEN
    assert str(progress(initial_statuses(False))) == "0 of 8 done"
    assert str(progress(initial_statuses(True))) == "0 of 9 done"


def test_progress_and_next_step() -> None:
    statuses = initial_statuses(True)
    statuses[StepId.SOFTWARE] = Status.DONE
    statuses[StepId.PASSWORDS] = Status.SKIPPED
    statuses[StepId.DNS] = Status.DONE
    assert str(progress(statuses)) == "3 of 9 done"
    nxt = next_step(statuses)
    assert nxt is not None and nxt.id is StepId.VERIFY_DATA


def test_cleanup_is_the_bots_after_mx_and_skippable_with_a_reason() -> None:
    statuses = initial_statuses(False)
    with pytest.raises(RunbookRefusal, match="The bot marks"):
        next_status(StepId.CLEANUP, Action.DONE, statuses)
    with pytest.raises(RunbookRefusal, match="Move MX"):
        next_status(StepId.CLEANUP, Action.DONE, statuses, by=Actor.BOT)
    statuses[StepId.MX] = Status.DONE
    assert next_status(StepId.CLEANUP, Action.DONE, statuses, by=Actor.BOT) is Status.DONE
    skipped = next_status(StepId.CLEANUP, Action.SKIP, statuses, reason="archive stays on Google")
    assert skipped is Status.SKIPPED


@pytest.mark.parametrize("missing", [StepId.VERIFY_DATA, StepId.DNS])
def test_mx_gate(missing: StepId) -> None:
    statuses = initial_statuses(False)
    for s in (StepId.VERIFY_DATA, StepId.DNS):
        statuses[s] = Status.DONE
    statuses[missing] = Status.SKIPPED  # skipped is not done: the gate stays shut
    with pytest.raises(RunbookRefusal, match=missing.value):
        check_request(StepId.MX, statuses)
    with pytest.raises(RunbookRefusal, match=missing.value):
        next_status(StepId.MX, Action.DONE, statuses, approved=True, by=Actor.BOT)


def test_mx_needs_approval_and_cannot_be_skipped() -> None:
    statuses = initial_statuses(False)
    statuses[StepId.VERIFY_DATA] = statuses[StepId.DNS] = Status.DONE
    check_request(StepId.MX, statuses)
    with pytest.raises(RunbookRefusal, match="approvals"):
        next_status(StepId.MX, Action.DONE, statuses, approved=False, by=Actor.BOT)
    assert next_status(StepId.MX, Action.DONE, statuses, approved=True, by=Actor.BOT) is (
        Status.DONE
    )
    with pytest.raises(RunbookRefusal, match="cannot be skipped"):
        next_status(StepId.MX, Action.SKIP, statuses, reason="no")


@pytest.mark.parametrize("step_id", [StepId.DNS, StepId.MX])
def test_a_person_cannot_mark_an_automated_gate_done(step_id: StepId) -> None:
    """The reviewer's path: DNS failing, MX still at the old host; Done by hand is refused
    with why and what to do, however far the gate is open."""
    statuses = initial_statuses(False)
    statuses[StepId.VERIFY_DATA] = Status.DONE
    if step_id is StepId.MX:
        statuses[StepId.DNS] = Status.DONE
    with pytest.raises(RunbookRefusal) as refused:
        next_status(step_id, Action.DONE, statuses, approved=True)
    assert refused.value.reason.startswith("The bot marks")
    assert refused.value.hint
    assert next_status(step_id, Action.DONE, statuses, approved=True, by=Actor.BOT) is (Status.DONE)


def test_dns_may_be_skipped_with_a_reason_and_verify_data_confirmed_by_hand() -> None:
    statuses = initial_statuses(False)
    assert next_status(StepId.DNS, Action.SKIP, statuses, reason="customer's DNS") is (
        Status.SKIPPED
    )
    with pytest.raises(RunbookRefusal, match="reason"):
        next_status(StepId.DNS, Action.SKIP, statuses)
    # the guide's "I see my mail in OWA": a person may confirm the data step
    assert next_status(StepId.VERIFY_DATA, Action.DONE, statuses) is Status.DONE


class RunbookMachine(RuleBasedStateMachine):
    """Any sequence of clicks keeps the runbook consistent: refusals change nothing, MX is
    never done unless data and DNS were done and it was approved, progress counts right."""

    def __init__(self) -> None:
        super().__init__()
        self.onprem = False
        self.statuses = initial_statuses(self.onprem)
        self.approved = False

    @rule(
        step=st.sampled_from(list(StepId)),
        action=st.sampled_from(list(Action)),
        reason=st.sampled_from(["", "not used here"]),
        by=st.sampled_from(list(Actor)),
    )
    def click(self, step: StepId, action: Action, reason: str, by: Actor) -> None:
        before = dict(self.statuses)
        try:
            after = next_status(
                step, action, self.statuses, approved=self.approved, reason=reason, by=by
            )
        except RunbookRefusal as refusal:
            assert refusal.reason
            assert self.statuses == before
            return
        if after is Status.DONE and step in (StepId.DNS, StepId.MX, StepId.CLEANUP):
            assert by is Actor.BOT  # only the automated check completes these
        if step is StepId.CLEANUP and after is Status.DONE:
            assert self.statuses[StepId.MX] is Status.DONE
        if step is StepId.MX and after is Status.DONE:
            assert self.statuses[StepId.VERIFY_DATA] is Status.DONE
            assert self.statuses[StepId.DNS] is Status.DONE
            assert self.approved
        assert after is not self.statuses[step]
        self.statuses[step] = after

    @precondition(lambda self: not self.approved)
    @rule()
    def approve_mx(self) -> None:
        try:
            check_request(StepId.MX, self.statuses)
        except RunbookRefusal:
            return
        self.approved = True

    @invariant()
    def not_needed_stays_not_needed(self) -> None:
        assert self.statuses[StepId.AUTODISCOVER_LOCAL] is Status.NOT_NEEDED

    @invariant()
    def progress_counts(self) -> None:
        p = progress(self.statuses)
        finished = [s for s in self.statuses.values() if s in (Status.DONE, Status.SKIPPED)]
        assert p.done == len(finished) and p.total == 8
        assert (next_step(self.statuses) is None) == (p.done == p.total)


TestRunbookMachine = RunbookMachine.TestCase
