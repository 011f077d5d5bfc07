"""Change detection, driven with hand-built audits and reports (no DNS, no clock)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from bot.dnscheck.model import Audit, AuditErrorKind, RecordResult, Verdict
from bot.mailbox.report import MailboxCount, evaluate
from bot.watch.detect import Detection, TenantFacts, detect
from bot.watch.observation import Observation
from tests.watch.audits import SERVERS, audit

NOW = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)
FACTS = TenantFacts(tenant_id=7, approvers=("U1", "U2"), time_zone="Europe/Berlin")


def run(prev: Observation, *audits_: object, facts: TenantFacts = FACTS, **kw: object) -> Detection:
    mapping = {a.domain: a for a in audits_}  # type: ignore[attr-defined]
    return detect(prev, mapping, kw.get("report"), facts, NOW)  # type: ignore[arg-type]


def kinds(outcome: Detection) -> list[str]:
    return [e.kind.value for e in outcome.events]


def test_records_ready_once() -> None:
    first = run(Observation(), audit(records="missing"))
    assert kinds(first) == [] and first.changed
    second = run(first.observation, audit())
    assert kinds(second) == ["records-ready"]
    assert [s.step_id for s in second.steps] == ["dns"]
    third = run(second.observation, audit())
    assert kinds(third) == [] and not third.changed
    assert third.observation == second.observation


def test_unknown_is_not_a_change() -> None:
    ready = run(Observation(), audit()).observation
    for flaky in (
        audit(records="unknown", mx=(None, None)),
        audit(error=AuditErrorKind.UNREACHABLE),
        audit(overrides={"spf": "unknown", "sip": "unknown"}, mx=("old", None)),
    ):
        outcome = run(ready, flaky)
        assert kinds(outcome) == [] and not outcome.changed


def test_optional_records_do_not_block_records_ready() -> None:
    outcome = run(Observation(), audit(overrides={"mdm-registration": "missing"}))
    assert kinds(outcome) == ["records-ready"]


def test_regression_names_the_record() -> None:
    ready = run(Observation(), audit()).observation
    outcome = run(ready, audit(overrides={"autodiscover": "wrong"}))
    assert kinds(outcome) == ["regression"]
    assert outcome.events[0].records == ("autodiscover",)
    assert "autodiscover passed before and is now wrong" in outcome.events[0].text
    back = run(outcome.observation, audit())
    assert kinds(back) == ["records-ready"]  # announced again: it is a new change


def test_partial_then_moved_with_cache_expiry() -> None:
    facts = TenantFacts(
        tenant_id=7, data_verified=True, mx_approved=True, time_zone="Europe/Berlin"
    )
    base = run(Observation(), audit(mx_ttl=3600), facts=facts)
    assert kinds(base) == ["records-ready", "ready-to-move-mx"]
    change = base.events[1].mx_changes[0]
    assert change.record == "Add MX 0 contoso-com.mail.protection.outlook.com"
    assert change.ttl == 3600 and change.current == ("10 mail.global.frontbridge.com",)
    partial = run(base.observation, audit(mx=("m365", "old"), mx_ttl=300), facts=facts)
    assert kinds(partial) == ["mx-partial"] and partial.fast
    event = partial.events[0]
    assert event.servers_moved == (SERVERS[0],) and event.servers_pending == (SERVERS[1],)
    assert SERVERS[1] in event.text
    moved = run(partial.observation, audit(mx=("m365", "m365"), mx_ttl=300), facts=facts)
    assert kinds(moved) == ["mx-moved"]
    assert moved.events[0].caches_expire_at == datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
    assert "caches expire by 16:00 CET" in moved.events[0].text  # old TTL 3600, Berlin time
    assert [s.step_id for s in moved.steps] == ["mx"]


def test_moved_early_is_loud_and_mentions_approvers() -> None:
    base = run(Observation(), audit()).observation
    outcome = run(base, audit(mx=("m365", "m365")))
    assert kinds(outcome) == ["mx-moved", "mx-moved-early"]
    assert outcome.events[1].mention == ("U1", "U2")
    verified = TenantFacts(tenant_id=7, data_verified=True)
    assert kinds(run(base, audit(mx=("m365", "m365")), facts=verified)) == ["mx-moved"]


def test_ready_to_move_needs_all_three() -> None:
    report_ready = evaluate([MailboxCount("a@contoso.com", 2)])
    approved = TenantFacts(tenant_id=7, mx_approved=True)
    assert "ready-to-move-mx" not in kinds(run(Observation(), audit(), facts=approved))
    assert "ready-to-move-mx" not in kinds(
        run(Observation(), audit(), report=report_ready)  # not approved
    )
    outcome = run(Observation(), audit(), facts=approved, report=report_ready)
    assert kinds(outcome) == ["data-progress", "data-ready", "records-ready", "ready-to-move-mx"]
    assert {s.step_id for s in outcome.steps} == {"verify-data", "dns"}


def test_data_progress_edits_one_message_then_ready() -> None:
    def report(*items: int) -> object:
        return evaluate([MailboxCount(f"u{i}@c.com", n) for i, n in enumerate(items)])

    empty = run(Observation(), audit(records="missing"), report=report(0, 0, 0))
    assert kinds(empty) == []
    one = run(empty.observation, audit(records="missing"), report=report(4, 0, 0))
    two = run(one.observation, audit(records="missing"), report=report(4, 1, 0))
    same = run(two.observation, audit(records="missing"), report=report(4, 1, 0))
    done = run(same.observation, audit(records="missing"), report=report(4, 1, 9))
    assert kinds(one) == kinds(two) == ["data-progress"] and kinds(same) == []
    group = one.events[0].edit_group
    assert group and two.events[0].edit_group == group and done.events[0].edit_group == group
    assert two.events[0].text == "2 of 3 mailboxes have mail; still empty: u2@c.com"
    assert kinds(done) == ["data-progress", "data-ready"]
    assert done.events[1].text == "3 of 3 mailboxes have mail."
    assert len({e.key for o in (one, two, done) for e in o.events}) == 4
    later = run(done.observation, audit(records="missing"), report=report(0, 0, 0))
    assert kinds(later) == []  # data once verified stays verified


def test_fast_once_approved() -> None:
    assert not run(Observation(), audit()).fast
    assert run(Observation(), audit(), facts=TenantFacts(tenant_id=1, mx_approved=True)).fast


def test_observation_round_trips_json() -> None:
    outcome = run(Observation(), audit(mx=("m365", "old")))
    data = outcome.observation.to_json()
    assert Observation.from_json(data) == outcome.observation


def test_a_domain_without_a_known_state_keeps_the_tenant_not_ready() -> None:
    """b.com's records are wrong; then its audit fails (unreachable) or is missing from a
    poll: readiness and the MX step are judged over both domains, so nothing is announced."""
    facts = TenantFacts(
        tenant_id=7, data_verified=True, mx_approved=True, domains=("a.com", "b.com")
    )
    a_ready, a_moved = audit("a.com"), audit("a.com", mx=("m365", "m365"))
    b_wrong = audit("b.com", overrides={"spf": "wrong"})
    b_failed = audit("b.com", error=AuditErrorKind.UNREACHABLE)
    first = run(Observation(), a_ready, b_wrong, facts=facts)
    assert kinds(first) == []
    for b in (b_failed, None):
        audits_ = (a_ready, b) if b else (a_ready,)
        flaky = run(first.observation, *audits_, facts=facts)
        assert kinds(flaky) == [] and not flaky.steps and not flaky.changed
        moved = run(first.observation, a_moved, *audits_[1:], facts=facts)
        assert kinds(moved) == ["mx-moved"] and not moved.steps  # b.com's MX is not known moved
    never_seen = run(Observation(), a_ready, b_failed, facts=facts)
    assert kinds(never_seen) == [] and not never_seen.steps


def _with_mta_sts(verdict: str, blockers: tuple[str, ...] = ()) -> Audit:
    """audit() plus an mta-sts record (optional here, so only the blocker can hold MX back)."""
    base = audit()
    sts = RecordResult(
        id="mta-sts",
        verdict=Verdict(verdict),
        name="_mta-sts.contoso.com",
        type="TXT",
        expected="x",
        found=("v=STSv1; id=1",),
        fix="",
        required=False,
    )
    return replace(base, records=(*base.records, sts), mx_blockers=blockers)


def test_an_mta_sts_blocker_holds_ready_to_move_until_the_policy_is_fixed() -> None:
    report_ready = evaluate([MailboxCount("a@contoso.com", 2)])
    approved = TenantFacts(tenant_id=7, mx_approved=True)
    why = "the MTA-STS policy of contoso.com is in enforce mode and leaves Microsoft 365 out"
    blocked = run(
        Observation(), _with_mta_sts("wrong", (why,)), facts=approved, report=report_ready
    )
    assert "records-ready" in kinds(blocked) and "ready-to-move-mx" not in kinds(blocked)
    assert blocked.observation.domains["contoso.com"].mx_blockers == (why,)
    assert not blocked.observation.ready_to_move
    # a poll that could not read the policy knows nothing new: still blocked
    unknown = run(blocked.observation, _with_mta_sts("unknown"), facts=approved)
    assert "ready-to-move-mx" not in kinds(unknown) and not unknown.observation.ready_to_move
    fixed = run(unknown.observation, _with_mta_sts("ok"), facts=approved)
    assert kinds(fixed) == ["ready-to-move-mx"]
    assert fixed.observation.domains["contoso.com"].mx_blockers == ()
