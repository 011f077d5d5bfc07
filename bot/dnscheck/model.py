"""Data that crosses the audit engine's boundary: what was asked, what came back, the verdicts.

Pure data: no I/O, no Slack, no database. The engine (``audit.py``) fills these; the CLI, the
Slack blocks and the background watch read them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Verdict(StrEnum):
    OK = "ok"
    MISSING = "missing"
    WRONG = "wrong"
    LEGACY = "legacy"
    CONFLICT = "conflict"
    INCONSISTENT = "inconsistent"
    UNKNOWN = "unknown"


class AuditErrorKind(StrEnum):
    NXDOMAIN = "nxdomain"
    UNREACHABLE = "unreachable"


class MxMove(StrEnum):
    """Where the lowest MX already points to Microsoft 365."""

    NONE = "none"  # on no authoritative server
    PARTIAL = "partial"  # on some of them (a change that has not reached every server)
    ALL = "all"  # on every one of them


MX_RULE = "the guide says never move MX before the mailbox data is verified in OWA"


@dataclass(frozen=True)
class DnsConfig:
    """Where the engine asks. ``nameservers`` empty means the system's resolver.

    ``auth_port`` is the port used to ask the authoritative servers directly; it is 53 on the
    internet and only differs in a lab or in tests (BIND on a free loopback port). The same goes
    for ``https_port``, where the MTA-STS policy is fetched (RFC 8461: 443). ``ca_bundle`` is
    ``TRANSITION_CA_BUNDLE``, trusted beside the system CAs (:func:`bot.ops.tls.ssl_context`).
    """

    nameservers: tuple[tuple[str, int], ...] = ()
    timeout: float = 3.0
    auth_port: int = 53
    ca_bundle: str | None = None
    https_port: int = 443
    https_timeout: float = 5.0  # the whole MTA-STS policy fetch


@dataclass(frozen=True)
class Judgement:
    """A rule's verdict on one consistent set of values, before it becomes a RecordResult."""

    verdict: Verdict
    fixes: tuple[str, ...] = ()
    detail: str = ""


@dataclass(frozen=True)
class RecordResult:
    id: str  # profile record id: mx, autodiscover, spf, verification, sip, ...
    verdict: Verdict
    name: str  # owner name asked, e.g. "autodiscover.contoso.com"
    type: str  # "MX", "CNAME", "TXT", "SRV"
    expected: str  # human text of what Microsoft 365 needs
    found: tuple[str, ...]  # values found (consensus, or the first server's when inconsistent)
    fix: str  # the exact change to make, "" when nothing to do
    servers: dict[str, tuple[str, ...]] = field(default_factory=dict)  # server -> values
    ttl: int | None = None
    required: bool = True  # optional records (MDM) never make the audit fail
    detail: str = ""  # one line of why (e.g. "ns2.contoso.com disagrees", "SPF has 12 lookups")
    fixes: tuple[str, ...] = ()  # the changes one by one; ``fix`` is them joined by newlines
    resolver: tuple[str, ...] | None = None  # what the configured resolver returned (None: failed)
    expected_from: str = "default"  # "tenant": the tenant's own value from Graph; "default"


@dataclass(frozen=True)
class Audit:
    domain: str  # ASCII (IDNA) form, no trailing dot
    display_domain: str  # Unicode form for people
    records: tuple[RecordResult, ...] = ()
    servers: tuple[str, ...] = ()  # authoritative servers asked, "ns1.contoso.com (192.0.2.1)"
    error: AuditErrorKind | None = None
    error_message: str = ""
    # the lowest-preference MX points to Microsoft 365 on every authoritative server
    mx_on_microsoft365: bool = False
    # servers whose lowest MX already is Microsoft 365's (all of them when mx_on_microsoft365)
    mx_servers_on_microsoft365: tuple[str, ...] = ()
    resolver: str = ""  # the resolver asked first, "127.0.0.1:53" or "system"
    # one line when the tenant's own records could not be read from Graph (defaults used)
    tenant_note: str = ""
    # lines to show above the records (e.g. DMARC rejects while DKIM is not set up)
    warnings: tuple[str, ...] = ()
    # why MX must not move yet, whatever the runbook says (an MTA-STS policy in enforce mode
    # that leaves Microsoft 365 out): the MX gate and the watch's ready-to-move-mx read it
    mx_blockers: tuple[str, ...] = ()
    source: str = ""  # the platform mail comes from (bot.dnscheck.sources), "" when none
    source_title: str = ""  # "Google Workspace"
    source_chosen: bool = False  # a person chose it; else detected from MX and SPF
    mail_now: str = ""  # "Mail now goes to Google Workspace"
    # what the source still has in DNS, each with its removal once MX has moved (before: no
    # fix, nothing of the source is removed while mail goes there): for the cleanup
    leftovers: tuple[RecordResult, ...] = ()
    leftovers_known: bool = False  # every server answered the questions they come from

    @property
    def mx_move(self) -> MxMove:
        """The one rule for "MX has moved", read by every renderer (Slack, CLI)."""
        if self.mx_on_microsoft365:
            return MxMove.ALL
        return MxMove.PARTIAL if self.mx_servers_on_microsoft365 else MxMove.NONE

    @property
    def mx_warning(self) -> str:
        """The warning to show when MX moved anywhere, plain text ("" when it did not)."""
        move = self.mx_move
        if move is MxMove.ALL:
            return f"MX already points to Microsoft 365 — {MX_RULE}."
        if move is MxMove.PARTIAL:
            # labels are "ns1.contoso.com (192.0.2.1)": people know their servers by name
            names = dict.fromkeys(s.split(" (", 1)[0] for s in self.mx_servers_on_microsoft365)
            return f"MX points to Microsoft 365 on {' and '.join(names)} only — {MX_RULE}."
        return ""

    @property
    def cautions(self) -> tuple[str, ...]:
        """Warnings beside the MX one, plain text: what blocks the MX move, then the others."""
        return (*(f"Do not move MX yet: {b}." for b in self.mx_blockers), *self.warnings)

    def record(self, record_id: str) -> RecordResult | None:
        return next((r for r in self.records if r.id == record_id), None)

    def summary(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for r in self.records:
            counts[r.verdict.value] = counts.get(r.verdict.value, 0) + 1
        return counts

    @property
    def needs_change(self) -> bool:
        """Some required record is not known to be right (to change, or not checked)."""
        return any(r.required and r.verdict is not Verdict.OK for r in self.records)

    @property
    def must_change(self) -> bool:
        """Some required record is known to be wrong: a server answered, and the answer needs
        a change. Unknown records alone never make this true (could not check ≠ must change)."""
        return any(
            r.required and r.verdict not in (Verdict.OK, Verdict.UNKNOWN) for r in self.records
        )

    @property
    def unknown_records(self) -> tuple[str, ...]:
        """Ids of the required records no server could tell us about."""
        return tuple(r.id for r in self.records if r.required and r.verdict is Verdict.UNKNOWN)
