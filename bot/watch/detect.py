"""Sans-I/O change detection: last observation + a new poll -> new observation and events.

``detect`` does no I/O and reads no clock: the poll job gathers the audits, the mailbox report
and the runbook facts, calls it, and stores what it returns in one transaction. A verdict
``unknown`` (timeout, SERVFAIL, unreachable) leaves the last known state as it was, so it is never
a change and nothing flaps. Dedupe keys carry the new observation's version, which grows by one
per stored change, so each change has its own key and a replayed poll has the same one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from bot.core.dns_step import gated, required_records
from bot.core.runbook import StepId
from bot.dnscheck.local_autodiscover import LocalAutodiscover, LocalState
from bot.dnscheck.model import Audit, RecordResult, Verdict
from bot.mailbox.report import MailboxReport
from bot.watch import cleanup
from bot.watch.events import Event, EventKind, MxChange, StepChecked, StepReached
from bot.watch.observation import DomainState, MxState, Observation

OK = Verdict.OK.value


@dataclass(frozen=True)
class TenantFacts:
    """What the runbook says at poll time (from storage, through the step/approval services)."""

    tenant_id: int
    data_verified: bool = False  # verify-data step done (probe or a person's "I see my mail")
    mx_approved: bool = False  # the MX approval request was granted
    approvers: tuple[str, ...] = ()
    time_zone: str = "UTC"
    # every domain of the tenant: readiness and "MX moved" hold only when each of them is known
    # to be ready or moved, so a domain missing from a poll's audits keeps the tenant not ready
    domains: tuple[str, ...] = ()


@dataclass(frozen=True)
class Detection:
    observation: Observation
    events: tuple[Event, ...]
    steps: tuple[StepReached, ...]
    fast: bool  # poll this tenant at the fast interval
    changed: bool  # the observation differs from the last one (store it)
    checks: tuple[StepChecked, ...] = ()  # results to keep on a step, passed or not


def _no_answer(values: tuple[str, ...]) -> bool:
    """The engine marks a server that did not answer with one "<reason>" value."""
    return len(values) == 1 and values[0].startswith("<") and values[0].endswith(">")


def _known(record: RecordResult | None) -> bool:
    return record is not None and record.verdict is not Verdict.UNKNOWN


def _update_domain(state: DomainState, audit: Audit) -> DomainState:
    if audit.error is not None:
        return state  # NXDOMAIN / unreachable this time: nothing new is known
    verdicts = dict(state.verdicts)
    for record in audit.records:
        if record.verdict is not Verdict.UNKNOWN:
            verdicts[record.id] = record.verdict.value
    required = required_records(audit.records)
    mx = audit.record("mx")
    mx_servers = dict(state.mx_servers)
    old_ttl, mx_ttl = state.old_mx_ttl, state.mx_ttl
    answered = {
        server: server in audit.mx_servers_on_microsoft365
        for server, values in (mx.servers if mx is not None else {}).items()
        if not _no_answer(values)
    }
    if mx is not None and answered:
        if audit.servers and set(audit.servers) <= set(answered):
            mx_servers = answered  # a full answer: forget servers no longer authoritative
        else:
            mx_servers.update(answered)
        mx_ttl = mx.ttl if mx.ttl is not None else mx_ttl
        if not any(answered.values()) and mx.ttl is not None:
            old_ttl = mx.ttl
    blockers = state.mx_blockers
    sts = audit.record("mta-sts")
    if sts is not None and sts.verdict is not Verdict.UNKNOWN:
        blockers = audit.mx_blockers
    if (verdicts, mx_servers, blockers) == (state.verdicts, state.mx_servers, state.mx_blockers):
        return state  # nothing known was learned (every answer unknown): no news
    return DomainState(
        verdicts=verdicts,
        mx_servers=mx_servers,
        old_mx_ttl=old_ttl,
        mx_ttl=mx_ttl,
        required=required or state.required,
        mx_blockers=blockers,
    )


def _domain_records_ready(state: DomainState) -> bool:
    return bool(state.required) and all(state.verdicts.get(r) == OK for r in state.required)


def _hhmm(when: datetime, time_zone: str) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        zone = ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    local = when.astimezone(zone)
    return f"{local:%H:%M} {local.tzname()}"


class _Builder:
    def __init__(self, facts: TenantFacts, version: int) -> None:
        self.facts = facts
        self.version = version
        self.events: list[Event] = []

    def key(self, kind: EventKind, domain: str = "", what: str = "") -> str:
        where = f"{domain or '*'}/{what}" if what else domain or "*"
        return f"t{self.facts.tenant_id}:{kind.value}:{where}:{self.version}"

    def add(self, kind: EventKind, domain: str = "", **fields: Any) -> None:
        what = ",".join(fields.get("records", ()))
        self.events.append(
            Event(
                kind=kind,
                key=self.key(kind, domain, what),
                tenant_id=self.facts.tenant_id,
                domain=domain,
                **fields,
            )
        )


def detect(
    prev: Observation,
    audits: Mapping[str, Audit],
    report: MailboxReport | None,
    facts: TenantFacts,
    now: datetime,
    local: Sequence[LocalAutodiscover] = (),
) -> Detection:
    """``local``: this poll's answers of the internal DNS server (one per domain), when the
    tenant has on-premises Exchange and gave one."""
    version = prev.version + 1
    out = _Builder(facts, version)
    steps: list[StepReached] = []

    domains = dict(prev.domains)
    for domain, audit in audits.items():
        state = _update_domain(prev.domains.get(domain, DomainState()), audit)
        if state.mx_state is MxState.MOVED and state.moved_at is None:
            state = replace(state, moved_at=now)
        elif state.mx_state is not MxState.MOVED and state.moved_at is not None:
            state = replace(state, moved_at=None)
        if domain in domains or state != DomainState():
            domains[domain] = state  # a domain never yet answered stays absent: no news

    # --- mailbox data ---------------------------------------------------------------------
    data_ready, with_mail, total = prev.data_ready, prev.data_with_mail, prev.data_total
    progress_group = prev.progress_group
    if report is not None and not prev.data_ready:
        with_mail, total = report.with_mail, report.total
        grew = (with_mail, total) != (prev.data_with_mail, prev.data_total)
        if grew and (with_mail > 0 or progress_group):
            progress_group = progress_group or out.key(EventKind.DATA_PROGRESS)
            out.add(EventKind.DATA_PROGRESS, text=report.text(), edit_group=progress_group)
        if report.ready:
            data_ready = True
            out.add(EventKind.DATA_READY, text=report.text())
            steps.append(StepReached(StepId.VERIFY_DATA, report.text()))
    data_verified = facts.data_verified or data_ready

    # --- records and MX, per domain -------------------------------------------------------
    for domain in sorted(audits):
        before = prev.domains.get(domain, DomainState())
        after = domains.get(domain, DomainState())
        _record_regressions(out, domain, before, after)
        _mx_transitions(out, domain, before, after, audits[domain], data_verified, now)

    tenant_domains = sorted(set(facts.domains) | set(audits))
    watched = [domains.get(d, DomainState()) for d in tenant_domains] or list(domains.values())
    records_ready = bool(watched) and all(_domain_records_ready(s) for s in watched)
    if records_ready and not prev.records_ready:
        out.add(
            EventKind.RECORDS_READY,
            text="Every record but MX is right on every authoritative server.",
        )
        steps.append(StepReached(StepId.DNS, "every record but MX passes on every server"))

    all_moved = bool(watched) and all(s.mx_state is MxState.MOVED for s in watched)
    was_moved = bool(prev.domains) and all(
        prev.domains.get(d, DomainState()).mx_state is MxState.MOVED for d in tenant_domains
    )
    if all_moved and not was_moved:
        steps.append(StepReached(StepId.MX, "MX points to Microsoft 365 on every server"))

    # an MTA-STS policy in enforce mode that leaves Microsoft 365 out: senders would refuse it
    blocked = any(s.mx_blockers for s in watched)
    ready_to_move = (
        data_verified and records_ready and facts.mx_approved and not all_moved and not blocked
    )
    if ready_to_move and not prev.ready_to_move:
        changes = tuple(
            _mx_change(domain, audits.get(domain), domains.get(domain, DomainState()))
            for domain in tenant_domains
            if domains.get(domain, DomainState()).mx_state is not MxState.MOVED
        )
        out.add(
            EventKind.READY_TO_MOVE_MX,
            text="You can change MX now: data verified, records ready, approval granted.",
            mx_changes=changes,
        )

    local_state, local_summary, checks = _local(out, prev, local, steps)
    announced, done, to_remove = _cleanup(out, prev, audits, watched, now, steps)
    checks += to_remove

    observation = Observation(
        version=version,
        domains=domains,
        records_ready=records_ready,
        data_ready=data_ready,
        data_with_mail=with_mail,
        data_total=total,
        progress_group=progress_group,
        ready_to_move=ready_to_move,
        local_autodiscover=local_state,
        local_summary=local_summary,
        cleanup_announced=announced,
        cleanup_done=done,
    )
    changed = replace(observation, version=prev.version) != prev
    if not changed:
        observation = prev
    fast = facts.mx_approved or any(s.mx_state is MxState.PARTIAL for s in watched)
    return Detection(observation, tuple(out.events), tuple(steps), fast, changed, checks)


def _local(
    out: _Builder,
    prev: Observation,
    local: Sequence[LocalAutodiscover],
    steps: list[StepReached],
) -> tuple[str | None, str, tuple[StepChecked, ...]]:
    """The internal server's autodiscover: announce once when it becomes right and once when
    it regresses; unreachable is no change (the last known state stays). The step keeps what
    the server returned, whenever that changes."""
    if not local:
        return prev.local_autodiscover, prev.local_summary, ()
    summary = "; ".join(r.summary() for r in local)
    known = [r for r in local if r.known]
    state = prev.local_autodiscover
    if len(known) == len(local):
        state = LocalState.OK.value
        wrong = [r for r in local if r.state is not LocalState.OK]
        if wrong:
            state = wrong[0].state.value
    passed = state == LocalState.OK.value and len(known) == len(local)
    if state != prev.local_autodiscover and len(known) == len(local):
        if passed:
            out.add(EventKind.LOCAL_AUTODISCOVER_OK, text=summary)
            steps.append(StepReached(StepId.AUTODISCOVER_LOCAL, summary))
        elif prev.local_autodiscover == LocalState.OK.value:
            out.add(
                EventKind.REGRESSION,
                text=f"Local autodiscover no longer points to Exchange Online: {summary}",
                records=("local-autodiscover",),
            )
    checks: tuple[StepChecked, ...] = ()
    if summary != prev.local_summary and not passed:
        checks = (StepChecked(StepId.AUTODISCOVER_LOCAL, False, summary),)
    return state, summary, checks


def _cleanup(
    out: _Builder,
    prev: Observation,
    audits: Mapping[str, Audit],
    watched: Sequence[DomainState],
    now: datetime,
    steps: list[StepReached],
) -> tuple[bool, bool, tuple[StepChecked, ...]]:
    """Tell the channel once what the old platform still has, with each exact change, when
    the cleanup is due; complete the step once it is all gone."""
    announced, done = prev.cleanup_announced, prev.cleanup_done
    if done:
        return announced, done, ()
    due = cleanup.due_at(watched)
    if due is None or now < due or not audits:
        return announced, done, ()
    lines = cleanup.removals(audits)
    if lines is None:
        return announced, done, ()  # not every leftover is known this time: ask again later
    title = cleanup.source_title(audits)
    checks: tuple[StepChecked, ...] = ()
    if not announced:
        announced = True
        if lines:
            listed = "; ".join(lines)
            summary = f"to remove: {listed if len(listed) <= 1500 else listed[:1499] + '…'}"
            checks = (StepChecked(StepId.CLEANUP, False, summary),)
            out.add(
                EventKind.CLEANUP_DUE,
                text=f"MX has pointed to Microsoft 365 on every server for longer than the old "
                f"MX's TTL plus {cleanup.GRACE.days} days: what {title} still has in DNS can "
                "go. The bot marks the cleanup step done when it is gone.",
                removals=lines,
            )
    if not lines:
        done = True
        out.add(
            EventKind.CLEANUP_DONE,
            text=f"Nothing of {title} is left in DNS: the move is complete.",
        )
        steps.append(StepReached(StepId.CLEANUP, f"nothing of {title} is left in DNS"))
    return announced, done, checks


def _record_regressions(
    out: _Builder, domain: str, before: DomainState, after: DomainState
) -> None:
    failed = tuple(
        sorted(
            rid
            for rid, verdict in after.verdicts.items()
            if gated(rid) and before.verdicts.get(rid) == OK and verdict != OK
        )
    )
    if failed:
        text = f"{domain}: " + ", ".join(
            f"{rid} passed before and is now {after.verdicts[rid]}" for rid in failed
        )
        out.add(EventKind.REGRESSION, domain, text=text, records=failed)


def _mx_transitions(
    out: _Builder,
    domain: str,
    before: DomainState,
    after: DomainState,
    audit: Audit,
    data_verified: bool,
    now: datetime,
) -> None:
    old, new = before.mx_state, after.mx_state
    if old is new:
        return
    moved = tuple(sorted(s for s, ok in after.mx_servers.items() if ok))
    pending = tuple(sorted(s for s, ok in after.mx_servers.items() if not ok))
    if new is MxState.MOVED:
        expires = now + timedelta(seconds=after.old_mx_ttl) if after.old_mx_ttl else None
        until = f"; caches expire by {_hhmm(expires, out.facts.time_zone)}" if expires else ""
        out.add(
            EventKind.MX_MOVED,
            domain,
            text=f"MX for {domain} now points to Microsoft 365 on every authoritative "
            f"server{until}.",
            servers_moved=moved,
            caches_expire_at=expires,
        )
    elif new is MxState.PARTIAL:
        out.add(
            EventKind.MX_PARTIAL,
            domain,
            text=f"MX for {domain} points to Microsoft 365 on {', '.join(moved)} "
            f"but not yet on {', '.join(pending)}.",
            servers_moved=moved,
            servers_pending=pending,
        )
    else:
        out.add(
            EventKind.REGRESSION,
            domain,
            text=f"{domain}: MX no longer points to Microsoft 365 on any authoritative server.",
            records=("mx",),
        )
    if old is MxState.OLD and not data_verified:
        out.add(
            EventKind.MX_MOVED_EARLY,
            domain,
            text=f"MX for {domain} was moved to Microsoft 365 before the mailbox data was "
            "verified: mail now lands in Exchange Online. Check OWA now.",
            mention=out.facts.approvers,
            servers_moved=moved,
        )


def _mx_change(domain: str, audit: Audit | None, state: DomainState) -> MxChange:
    mx = audit.record("mx") if audit is not None else None
    record = (mx.fix or mx.expected) if mx is not None else ""
    current = mx.found if mx is not None else ()
    return MxChange(domain=domain, record=record, current=current, ttl=state.mx_ttl)
