"""The local autodiscover and the cleanup in change detection: hand-built audits and internal
server answers, the time given (no DNS, no clock)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from bot.core.runbook import StepId
from bot.dnscheck.local_autodiscover import LocalAutodiscover, LocalState, unreachable
from bot.dnscheck.model import Audit, RecordResult, Verdict
from bot.watch.cleanup import GRACE, UNKNOWN_OLD_TTL
from bot.watch.detect import Detection, TenantFacts, detect
from bot.watch.observation import Observation
from tests.watch.audits import audit

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
FACTS = TenantFacts(tenant_id=7, domains=("contoso.com",))
SERVER = "10.0.0.53"


def local(state: LocalState, *found: str) -> LocalAutodiscover:
    if state is LocalState.UNREACHABLE:
        return unreachable(SERVER, "contoso.com", "timeout")
    return LocalAutodiscover(SERVER, "contoso.com", state, found, "detail")


def kinds(outcome: Detection) -> list[str]:
    return [e.kind.value for e in outcome.events]


def step(prev: Observation, result: LocalAutodiscover, at: datetime = T0) -> Detection:
    return detect(prev, {}, None, FACTS, at, (result,))


def test_local_autodiscover_right_is_announced_once_and_a_regression_once() -> None:
    wrong = step(Observation(), local(LocalState.WRONG, "A 10.0.0.20"))
    assert kinds(wrong) == [] and wrong.steps == ()
    assert [c.step_id for c in wrong.checks] == [StepId.AUTODISCOVER_LOCAL]
    assert "A 10.0.0.20" in wrong.checks[0].summary and not wrong.checks[0].passed
    same = step(wrong.observation, local(LocalState.WRONG, "A 10.0.0.20"))
    assert kinds(same) == [] and same.checks == () and not same.changed

    ok = step(same.observation, local(LocalState.OK, "CNAME autodiscover.outlook.com"))
    assert kinds(ok) == ["local-autodiscover-ok"]
    assert [s.step_id for s in ok.steps] == [StepId.AUTODISCOVER_LOCAL]
    again = step(ok.observation, local(LocalState.OK, "CNAME autodiscover.outlook.com"))
    assert kinds(again) == [] and again.steps == ()

    back = step(again.observation, local(LocalState.WRONG, "A 10.0.0.20"))
    assert kinds(back) == ["regression"] and back.events[0].records == ("local-autodiscover",)
    still = step(back.observation, local(LocalState.MISSING))
    assert kinds(still) == []  # wrong to missing: still not right, no second regression


def test_an_unreachable_server_is_shown_on_the_step_and_is_not_a_change() -> None:
    ok = step(Observation(), local(LocalState.OK, "CNAME autodiscover.outlook.com"))
    gone = step(ok.observation, local(LocalState.UNREACHABLE))
    assert kinds(gone) == [] and gone.steps == ()
    assert gone.observation.local_autodiscover == "ok"  # last known state kept
    assert gone.checks[0].summary == f"could not reach {SERVER} from the bot (timeout)"
    back = step(gone.observation, local(LocalState.OK, "CNAME autodiscover.outlook.com"))
    assert kinds(back) == []  # right before, right again: nothing to announce


def leftover() -> RecordResult:
    return RecordResult(
        id="source-dkim",
        verdict=Verdict.LEGACY,
        name="google._domainkey.contoso.com",
        type="TXT",
        expected="(none after the move)",
        found=("v=DKIM1",),
        fix="Delete google._domainkey.contoso.com TXT",
        fixes=("Delete google._domainkey.contoso.com TXT",),
        required=False,
    )


def moved(left: bool = True, known: bool = True) -> Audit:
    return replace(
        audit("contoso.com", mx=("m365", "m365")),
        source_title="Google Workspace",
        leftovers=(leftover(),) if left else (),
        leftovers_known=known,
    )


def cleanup_run(prev: Observation, at: datetime, current: Audit) -> Detection:
    return detect(prev, {"contoso.com": current}, None, FACTS, at)


def test_cleanup_waits_for_the_old_ttl_and_the_grace_then_tells_once() -> None:
    before = cleanup_run(Observation(), T0, audit("contoso.com", mx_ttl=3600))
    at_move = cleanup_run(before.observation, T0 + timedelta(minutes=1), moved())
    assert "mx-moved" in kinds(at_move) and "cleanup-due" not in kinds(at_move)
    due = T0 + timedelta(minutes=1, seconds=3600) + GRACE

    early = cleanup_run(at_move.observation, due - timedelta(seconds=1), moved())
    assert kinds(early) == []
    unknown = cleanup_run(early.observation, due, moved(known=False))
    assert kinds(unknown) == []  # a server did not answer: nothing said on a guess

    told = cleanup_run(unknown.observation, due, moved())
    assert kinds(told) == ["cleanup-due"]
    assert told.events[0].removals == ("contoso.com: Delete google._domainkey.contoso.com TXT",)
    assert [(c.step_id, c.passed) for c in told.checks] == [(StepId.CLEANUP, False)]
    assert "google._domainkey" in told.checks[0].summary  # the step lists it too
    assert kinds(cleanup_run(told.observation, due + timedelta(days=1), moved())) == []

    gone = cleanup_run(told.observation, due + timedelta(days=2), moved(left=False))
    assert kinds(gone) == ["cleanup-done"]
    assert [s.step_id for s in gone.steps] == [StepId.CLEANUP]
    assert kinds(cleanup_run(gone.observation, due + timedelta(days=3), moved(False))) == []


def test_an_mx_moved_back_restarts_the_wait() -> None:
    at_move = cleanup_run(Observation(), T0, moved())
    assert at_move.observation.domains["contoso.com"].old_mx_ttl is None  # never seen
    back = cleanup_run(at_move.observation, T0 + timedelta(hours=1), audit("contoso.com"))
    again = cleanup_run(back.observation, T0 + timedelta(hours=2), moved())
    # from the first move with a day's TTL assumed, it would be due now: the wait restarted
    first_due = T0 + timedelta(seconds=UNKNOWN_OLD_TTL) + GRACE
    due = T0 + timedelta(hours=2, seconds=3600) + GRACE  # the old MX's TTL, seen meanwhile
    assert kinds(cleanup_run(again.observation, due - timedelta(seconds=1), moved())) == []
    assert kinds(cleanup_run(again.observation, due, moved())) == ["cleanup-due"]
    assert first_due > due  # an unknown TTL never makes it come earlier


def test_without_leftovers_the_step_is_done_at_the_due_time_with_one_message() -> None:
    at_move = cleanup_run(Observation(), T0, moved(left=False))
    due = T0 + timedelta(seconds=UNKNOWN_OLD_TTL) + GRACE
    assert kinds(cleanup_run(at_move.observation, due - timedelta(seconds=1), moved(False))) == []
    done = cleanup_run(at_move.observation, due, moved(left=False))
    assert kinds(done) == ["cleanup-done"] and [s.step_id for s in done.steps] == ["cleanup"]
