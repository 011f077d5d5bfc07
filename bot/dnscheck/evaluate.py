"""The audit's rules, sans I/O: per-server DNS answers in, verdicts and exact fixes out.

``audit.py`` does the asking and hands every answer here as a :class:`ServerAnswer`; tests
build the same answers from hand-made ``dns.message`` responses, with no network.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from functools import cached_property

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rrset

from bot.dnscheck import mailauth, sources, spf
from bot.dnscheck.leftovers import Seen, leftovers
from bot.dnscheck.model import Audit, AuditErrorKind, Judgement, RecordResult, Verdict
from bot.dnscheck.mta_sts import PolicyFetch
from bot.dnscheck.profile import ExpectedRecord, LegacyRecord, Profile, Rule
from bot.dnscheck.sources import Source
from bot.dnscheck.tenant import ExpectedFrom, TenantTruth


class Outcome(StrEnum):
    ANSWER = "answer"
    NXDOMAIN = "nxdomain"  # the name does not exist: the record is missing
    NOANSWER = "noanswer"  # the name exists without this type: the record is missing
    TIMEOUT = "timeout"
    SERVFAIL = "servfail"
    REFUSED = "refused"
    ERROR = "error"  # anything else that is not an answer (lame server, network error)


FAILURES = frozenset({Outcome.TIMEOUT, Outcome.SERVFAIL, Outcome.REFUSED, Outcome.ERROR})


@dataclass(frozen=True)
class Question:
    name: str  # ASCII, no trailing dot
    type: str  # "MX", "TXT", ...

    # parsed once: an audit matches each question against the resolver's and every server's reply
    @cached_property
    def rdname(self) -> dns.name.Name:
        return dns.name.from_text(self.name)

    @cached_property
    def rdtype(self) -> dns.rdatatype.RdataType:
        return dns.rdatatype.from_text(self.type)


@dataclass(frozen=True)
class ServerAnswer:
    """One server's answer to one question."""

    outcome: Outcome
    rdatas: tuple[dns.rdata.Rdata, ...] = ()
    ttl: int | None = None
    reason: str = ""  # for failures: "timeout", "SERVFAIL", "not authoritative", ...
    alias: str = ""  # the name is a CNAME to this (the chain's end, when the answer holds it)

    @property
    def failed(self) -> bool:
        return self.outcome in FAILURES


MAX_CNAME_CHAIN = 8


def _through_cnames(
    message: dns.message.Message, question: Question
) -> tuple[dns.rrset.RRset | None, str]:
    """The rrset of the question's type at the end of any CNAME chain in the answer section,
    and the last alias followed ("" when the name is not an alias)."""
    name, alias = question.rdname, ""
    for _ in range(MAX_CNAME_CHAIN):
        try:
            return message.find_rrset(
                message.answer, name, dns.rdataclass.IN, question.rdtype
            ), alias
        except KeyError:
            pass
        if question.rdtype == dns.rdatatype.CNAME:
            return None, alias
        try:
            cname = message.find_rrset(message.answer, name, dns.rdataclass.IN, dns.rdatatype.CNAME)
        except KeyError:
            return None, alias
        name = cname[0].target
        alias = name.to_text(omit_final_dot=True).lower()
    return None, alias


def answer_from_message(
    message: dns.message.Message, question: Question, *, authoritative: bool = True
) -> ServerAnswer:
    """Classify a response. With ``authoritative``, an empty answer without the AA bit is a
    lame server (it does not serve the zone), not proof that the record is missing."""
    rcode = message.rcode()
    if rcode == dns.rcode.NXDOMAIN:
        return ServerAnswer(Outcome.NXDOMAIN)
    if rcode == dns.rcode.SERVFAIL:
        return ServerAnswer(Outcome.SERVFAIL, reason="SERVFAIL")
    if rcode == dns.rcode.REFUSED:
        return ServerAnswer(Outcome.REFUSED, reason="REFUSED")
    if rcode != dns.rcode.NOERROR:
        return ServerAnswer(Outcome.ERROR, reason=dns.rcode.to_text(rcode))
    if question.rdtype == dns.rdatatype.ANY:
        return _any_answer(message, question, authoritative)
    rrset, alias = _through_cnames(message, question)
    if rrset is None:
        if authoritative and not message.flags & dns.flags.AA:
            return ServerAnswer(Outcome.ERROR, reason="not authoritative for the domain")
        return ServerAnswer(Outcome.NOANSWER, alias=alias)
    return ServerAnswer(Outcome.ANSWER, tuple(rrset), rrset.ttl, alias=alias)


# Not records someone added at a name: DNSSEC data, and RFC 8482's stand-in for refusing ANY.
_NOT_OTHER_DATA = frozenset(
    {dns.rdatatype.RRSIG, dns.rdatatype.NSEC, dns.rdatatype.NSEC3, dns.rdatatype.HINFO}
)


def _any_answer(
    message: dns.message.Message, question: Question, authoritative: bool
) -> ServerAnswer:
    """Every record at the name (what a CNAME would have to sit beside)."""
    rrsets = [
        r for r in message.answer if r.name == question.rdname and r.rdtype not in _NOT_OTHER_DATA
    ]
    if not rrsets:
        if authoritative and not message.flags & dns.flags.AA:
            return ServerAnswer(Outcome.ERROR, reason="not authoritative for the domain")
        return ServerAnswer(Outcome.NOANSWER)
    rdatas = tuple(rdata for rrset in rrsets for rdata in rrset)
    return ServerAnswer(Outcome.ANSWER, rdatas, min(r.ttl for r in rrsets))


def typed_value(rdata: dns.rdata.Rdata) -> str:
    """``A 192.0.2.80``: a value with its type, for a list that mixes types."""
    return f"{dns.rdatatype.to_text(rdata.rdtype)} {value_text(rdata)}"


def answer_from_error(error: BaseException) -> ServerAnswer:
    if isinstance(error, dns.exception.Timeout):
        return ServerAnswer(Outcome.TIMEOUT, reason="timeout")
    if isinstance(error, ConnectionRefusedError):
        return ServerAnswer(Outcome.REFUSED, reason="connection refused")
    return ServerAnswer(Outcome.ERROR, reason=type(error).__name__)


def value_text(rdata: dns.rdata.Rdata) -> str:
    """A record's value as people write it: no trailing dots, TXT strings joined unquoted."""
    if rdata.rdtype == dns.rdatatype.TXT:
        return b"".join(rdata.strings).decode("utf-8", "replace")  # type: ignore[attr-defined]
    if rdata.rdtype == dns.rdatatype.MX and rdata.exchange == dns.name.root:  # type: ignore[attr-defined]
        return f"{rdata.preference} ."  # type: ignore[attr-defined]  # null MX (RFC 7505)
    return rdata.to_text(relativize=False).replace(". ", " ").rstrip(".").lower()


def _host(name: dns.name.Name) -> str:
    return name.to_text(omit_final_dot=True).lower()


# ---------------------------------------------------------------------------- the rules


@dataclass(frozen=True)
class Context:
    domain: str
    profile: Profile
    # SPF record text -> its walk through includes (records not walked are judged on their
    # own terms, and whatever needs the walk is unknown)
    spf_checks: Mapping[str, spf.Check] = field(default_factory=dict)
    tenant: TenantTruth | None = None  # the tenant's records from Graph, for this domain
    auth: mailauth.MailAuthContext | None = None
    source: Source | None = None  # the platform mail comes from (chosen or detected)
    # includes the SPF fix never drops: the source still sends until MX has moved, and only the
    # cleanup (after the old MX's TTL and a grace period) says when they can go
    spf_keep: frozenset[str] = frozenset()
    hybrid: bool = False  # on-premises Exchange kept during the move
    mx_moved: bool = False  # MX is Microsoft 365's on every authoritative server

    @property
    def truth(self) -> TenantTruth | None:
        """The tenant's truth when it is about this domain and Graph gave records."""
        t = self.tenant
        return t if t is not None and t.domain == self.domain and t.records else None

    @property
    def tenant_mx(self) -> str | None:
        return self.truth.mx_host if self.truth is not None else None

    @property
    def tenant_mx_preference(self) -> int:
        found = self.truth.find("MX", self.domain) if self.truth is not None else ()
        return found[0].preference or 0 if found else 0

    @property
    def mail_auth(self) -> mailauth.MailAuthContext:
        return self.auth or mailauth.MailAuthContext(self.domain)


MAIL_AUTH_RULES = frozenset({Rule.DKIM, Rule.DMARC, Rule.MTA_STS, Rule.TLS_RPT})


def expectation(expected: ExpectedRecord, ctx: Context) -> tuple[ExpectedRecord, ExpectedFrom]:
    """The record as this tenant needs it: Graph's exact value when it gave one for this name
    and type, else the profile's default. SPF stays the profile's (its rule is an include)."""
    own = ctx.tenant if ctx.tenant is not None and ctx.tenant.domain == ctx.domain else None
    if expected.until_verified and own is not None and own.verification:
        # Graph gives the verification TXT for an unverified domain too: that is when it counts
        pattern = "^(" + "|".join(re.escape(v) for v in own.verification) + ")$"
        shown = " or ".join(own.verification)
        return replace(expected, value=pattern, shown=shown, add_hint=""), ExpectedFrom.TENANT
    truth = ctx.truth
    if truth is None or expected.rule in (Rule.SPF, Rule.PATTERN):
        return expected, ExpectedFrom.DEFAULT
    owner = expected.owner(ctx.domain)
    found = truth.find(expected.type, owner)
    if not found:
        return expected, ExpectedFrom.DEFAULT
    tenant = found[0]
    if expected.rule is Rule.MX:
        shown = f"{tenant.preference or 0} {tenant.value}"
        return replace(expected, value=tenant.value, shown=shown), ExpectedFrom.TENANT
    if expected.rule is Rule.DKIM:  # the rule's value is a regular expression: this one exactly
        exact = "^" + re.escape(tenant.value) + "$"
        return replace(expected, value=exact, shown=tenant.value, add_hint=""), ExpectedFrom.TENANT
    return replace(expected, value=tenant.value, shown="", accepted=()), ExpectedFrom.TENANT


def relevant(expected: ExpectedRecord, rdatas: Sequence[dns.rdata.Rdata]) -> list[dns.rdata.Rdata]:
    """The rdatas a record is about: two profile records share the TXT set at the apex."""
    if expected.rule is Rule.SPF:
        return [r for r in rdatas if spf.is_spf(value_text(r))]
    if expected.rule is Rule.PATTERN:
        pattern = re.compile(expected.value, re.IGNORECASE)
        return [r for r in rdatas if pattern.match(value_text(r))]
    if expected.rule in MAIL_AUTH_RULES:
        kept = set(mailauth.relevant(expected.rule, [value_text(r) for r in rdatas]))
        return [r for r in rdatas if value_text(r) in kept]
    return list(rdatas)


def judge(expected: ExpectedRecord, rdatas: Sequence[dns.rdata.Rdata], ctx: Context) -> Judgement:
    """The verdict for one consistent set of values (already filtered by :func:`relevant`)."""
    rule = expected.rule
    if rule is Rule.MX:
        return _judge_mx(expected, rdatas, ctx)
    if rule is Rule.SPF:
        return _judge_spf(expected, rdatas, ctx)
    if rule in MAIL_AUTH_RULES:
        return _judge_mail_auth(expected, sorted(value_text(r) for r in rdatas), ctx)
    name, want = expected.owner(ctx.domain), expected.target(ctx.domain)
    if not rdatas:
        shown = expected.expected(ctx.domain) if rule is Rule.PATTERN else want
        verb = f"Add TXT {shown}" if rule is Rule.PATTERN else f"Add {name} {expected.type} {want}"
        return Judgement(Verdict.MISSING, (f"{verb} {expected.add_hint}".strip(),))
    if rule is Rule.PATTERN:
        return Judgement(Verdict.OK)
    if rule is Rule.TARGET:
        found = [value_text(r) for r in rdatas]
        if any(t in found for t in expected.targets(ctx.domain)):
            return Judgement(Verdict.OK)
        return Judgement(
            _wrong_or_legacy(expected, found),
            (f"Change {name} {expected.type} to {want}",),
            f"points to {', '.join(found)}",
        )
    return _judge_srv(expected, rdatas, name, want)


def _judge_mail_auth(expected: ExpectedRecord, values: list[str], ctx: Context) -> Judgement:
    if expected.rule is Rule.DKIM:
        return mailauth.judge_dkim(expected, values, ctx.domain)
    if expected.rule is Rule.DMARC:
        return mailauth.judge_dmarc(expected, values, ctx.domain)
    if expected.rule is Rule.MTA_STS:
        return mailauth.judge_mta_sts(expected, values, ctx.mail_auth).judgement
    return mailauth.judge_tls_rpt(expected, values, ctx.domain)


def _wrong_or_legacy(expected: ExpectedRecord, targets: Sequence[str]) -> Verdict:
    """Pointing at another provider is a leftover to replace (legacy), else a mistake."""
    suffix = expected.provider
    if suffix and all(t != suffix and not t.endswith("." + suffix) for t in targets):
        return Verdict.LEGACY
    return Verdict.WRONG


def _judge_srv(
    expected: ExpectedRecord, rdatas: Sequence[dns.rdata.Rdata], name: str, want: str
) -> Judgement:
    _prio, _weight, port, target = want.split()
    found = [(r.port, _host(r.target)) for r in rdatas]  # type: ignore[attr-defined]
    if (int(port), target) in found:
        extra = [r for r, f in zip(rdatas, found, strict=True) if f != (int(port), target)]
        if not extra:
            return Judgement(Verdict.OK)
        # one value is needed: clients pick among SRV records by priority and weight, so a
        # second one sends some of them elsewhere
        listed = ", ".join(value_text(r) for r in extra)
        return Judgement(
            Verdict.CONFLICT,
            tuple(f"Delete {name} SRV {value_text(r)}" for r in extra),
            f"{len(found)} SRV records where one is needed; besides the right one: {listed}",
        )
    why = [
        f"port {p}, needs {port}" if t == target else f"points to {t}:{p}, needs {target}:{port}"
        for p, t in found
    ]
    verdict = _wrong_or_legacy(expected, [t for _, t in found])
    return Judgement(verdict, (f"Change {name} SRV to {want}",), "; ".join(why))


NULL_MX = "."  # RFC 7505: "this domain accepts no mail"


def _exchanges(rdatas: Sequence[dns.rdata.Rdata]) -> list[tuple[int, str]]:
    """(preference, host) of each MX, sorted; a null MX's host is "."."""
    return sorted((r.preference, _host(r.exchange)) for r in rdatas)  # type: ignore[attr-defined]


def mail_goes_to_microsoft365(exchanges: Sequence[tuple[int, str]], profile: Profile) -> bool:
    """The one rule for "MX has moved": every lowest-preference exchange is Microsoft 365
    (read by the audit's MX verdict, the watch's mx-moved and the MX gate through
    :func:`mx_is_microsoft365`)."""
    if not exchanges:
        return False
    lowest = min(p for p, _ in exchanges)
    return all(profile.is_microsoft365_host(h) for p, h in exchanges if p == lowest)


def usual_mx(expected: ExpectedRecord, domain: str) -> str:
    """The MX host to add when the tenant's exact one is not known: where to read it."""
    return (
        "<host from the Microsoft 365 admin center, Settings › Domains; "
        f"usually {expected.target(domain)}>"
    )


def _mx_line(pref: int, host: str) -> str:
    return f"the null MX ({pref} .)" if host == NULL_MX else f"MX {pref} {host}"


def _judge_mx(
    expected: ExpectedRecord, rdatas: Sequence[dns.rdata.Rdata], ctx: Context
) -> Judgement:
    """Any Microsoft 365 exchange passes, alone; the tenant's exact host when Graph gave it.

    No fix ever deletes or replaces an exchange that is Microsoft 365: a wrong-tenant host is
    reported, and the admin decides (removing it may cut mail that still arrives through it).
    """
    profile, tenant_mx = ctx.profile, ctx.tenant_mx
    mx = _exchanges(rdatas)
    if tenant_mx is not None:
        pref = ctx.tenant_mx_preference
        add = f"Add MX {pref} {tenant_mx}"
    else:
        add = f"Add MX 0 {usual_mx(expected, ctx.domain)}"
    if not mx:
        return Judgement(Verdict.MISSING, (add,))
    microsoft = [(p, h) for p, h in mx if profile.is_microsoft365_host(h)]
    source = ctx.source if ctx.source is not None and ctx.source.platform else None
    legacy = [
        (p, h)
        for p, h in mx
        if (p, h) not in microsoft
        and (profile.is_legacy_host(h) or (source is not None and source.is_host(h, ctx.domain)))
    ]
    others = [(p, h) for p, h in mx if (p, h) not in microsoft and (p, h) not in legacy]
    if tenant_mx is not None:
        right = [(p, h) for p, h in microsoft if h == tenant_mx]
        foreign = [(p, h) for p, h in microsoft if h != tenant_mx]
    else:
        right, foreign = microsoft, []
    fixes = [] if right else [add]
    fixes += [f"Delete {_mx_line(p, h)}" for p, h in [*legacy, *others]]
    if mx == [(mx[0][0], NULL_MX)]:
        return Judgement(
            Verdict.WRONG,
            (f"Replace {_mx_line(*mx[0])} with {add.removeprefix('Add ')}",),
            "a null MX (RFC 7505) says this domain receives no mail at all",
        )
    if legacy:
        hosts = ", ".join(h for _, h in legacy)
        named = (
            source.title
            if source is not None and all(source.is_host(h, ctx.domain) for _, h in legacy)
            else "legacy Microsoft hosts"
        )
        return Judgement(Verdict.LEGACY, tuple(fixes), f"mail still goes to {named} ({hosts})")
    why: list[str] = []
    if foreign:
        hosts = ", ".join(h for _, h in foreign)
        why.append(
            f"points to another Microsoft 365 MX than this tenant's ({hosts}; this tenant's is "
            f"{tenant_mx}): compare with the admin center before removing it yourself"
        )
    if others and (right or foreign):
        hosts = ", ".join(_mx_line(p, h) for p, h in others)
        why.append(
            f"{hosts} beside Microsoft 365: Microsoft says to remove other MX records, "
            "senders fall back to them, and DANE forbids a fallback"
        )
    elif others:
        lowest = sorted({h for p, h in others if p == others[0][0]})
        why.append(f"mail goes to {', '.join(lowest)}")
    if not why:
        return Judgement(Verdict.OK, (), "mail goes to Microsoft 365")
    return Judgement(Verdict.WRONG, tuple(fixes), "; ".join(why))


def _judge_spf(
    expected: ExpectedRecord, rdatas: Sequence[dns.rdata.Rdata], ctx: Context
) -> Judgement:
    """RFC 7208 as a receiver applies it: one record (4.5), no permerror, Microsoft 365's
    include reached with a pass (directly or through the domain's own includes, 5.2), and an
    all that does not let anyone send."""
    records = sorted(value_text(r) for r in rdatas)  # servers rotate the order
    if not records:
        return Judgement(Verdict.MISSING, (f'Add TXT "{expected.expected(ctx.domain)}"',))
    if len(records) > 1:
        return _spf_conflict(expected, records, ctx)
    record = records[0]
    limit = ctx.profile.spf_lookup_limit
    check = ctx.spf_checks.get(record) or spf.evaluate(record, ctx.domain, {}, limit=limit)
    include = expected.value
    suggestion = _spf_suggestion([record], expected, ctx, [check])
    change = _spf_change(record, suggestion, limit)
    detail = _spf_detail(check, limit)
    if check.permerrors:
        # the suggested record is offered (and its changes told) only for broken includes
        told = suggestion.changes if check.broken and suggestion.record else ()
        failing = "receivers treat this SPF record as an error (permerror), as if it were absent: "
        return Judgement(
            Verdict.WRONG,
            _spf_permerror_fixes(record, check, suggestion, limit),
            "; ".join([failing + "; ".join(check.permerrors), *told]),
        )
    retired = [
        i
        for i in spf.includes(record)
        if ctx.profile.is_legacy_include(i) and i not in ctx.spf_keep
    ]
    if retired:
        return Judgement(
            Verdict.LEGACY,
            change,
            f"includes the old BPOS/FOPE {', '.join(retired)}",
        )
    if not check.counted or (check.pending and not check.authorises(include)):
        why = check.unresolved or tuple(f"{n} was not asked" for n, _ in sorted(check.pending))
        return Judgement(Verdict.UNKNOWN, (), "could not follow the SPF record: " + "; ".join(why))
    kept = _kept_note(record, ctx)
    if not check.authorises(include):
        wrong = [_not_authorised(record, include, check), detail, *suggestion.changes]
        return Judgement(Verdict.WRONG, change, "; ".join(filter(None, [*wrong, kept])))
    if check.open_through:
        chain = " → ".join(f"include:{t}" for t in check.open_through)
        return Judgement(
            Verdict.WRONG,
            (
                f"Ask the owner of {check.open_through[-1]} to end its SPF record with ~all or "
                f"-all (removing the include would also stop its real senders)",
            ),
            f"{chain} ends in +all: anyone can send as {ctx.domain}; {detail}",
        )
    if check.all in ("+", "?", ""):
        parsed = spf.parse(record)
        if parsed.all is None and parsed.redirect is not None:
            change = (
                f"End the SPF record of {parsed.redirect.target} with ~all "
                f"(this record redirects to it)",
            )
        written = f"{check.all}all" if check.all else "no all"
        effect = "lets anyone send as" if check.all else "gives neutral (anyone may send) for"
        return Judgement(
            Verdict.WRONG,
            change,
            f"{written}: {effect} {ctx.domain} (RFC 7208 sections 4.7, 8.1); {detail}",
        )
    path = check.passes.get(include, ())
    if len(path) > 1:
        detail += f"; Microsoft 365 authorised through {' → '.join(path[:-1])}"
    if check.all == "~":
        detail += (
            "; ~all marks mail from senders not listed as suspicious; once every sender is "
            "listed, -all lets receivers reject it"
        )
    if kept:
        detail += f"; {kept}"
    return Judgement(Verdict.OK, (), detail)


# never "drop an include": one of a sender still in use would lose its mail (the first rule)
CUT_HOW = (
    "flatten an include into the ip4:/ip6: ranges it lists, or remove the include of a "
    "sender the domain no longer uses"
)


def _spf_suggestion(
    records: Sequence[str],
    expected: ExpectedRecord,
    ctx: Context,
    checks: Sequence[spf.Check | None],
) -> spf.Suggestion:
    """The one record to publish, from the walks of ``records`` (one each, None: not walked):
    counted when every record was walked to the end."""
    include = expected.value
    walked = [c for c in checks if c is not None]
    costs: dict[str, int] | None = None
    if len(walked) == len(records) and all(c.counted for c in walked):
        costs = {term: n for c in walked for term, n in c.costs}
        subtree = next((c.subtree[include] for c in walked if include in c.subtree), 0)
        costs.setdefault(f"include:{include}", 1 + subtree)
    return spf.suggest(
        records,
        add=include,
        authorised_via={c[0] for w in walked for t, c in w.passes.items() if t == include},
        keep=ctx.spf_keep,
        retired=ctx.profile.is_legacy_include,
        broken={b for w in walked for b in w.broken},
        costs=costs,
    )


def _spf_change(record: str, suggestion: spf.Suggestion, limit: int) -> tuple[str, ...]:
    return _cut_first((f'Change TXT "{record}" to {suggestion.txt}',), suggestion, limit)


def _cut_first(change: tuple[str, ...], suggestion: spf.Suggestion, limit: int) -> tuple[str, ...]:
    """The first rule: a fix that makes the record a permerror would lose mail."""
    if suggestion.lookups is not None and suggestion.lookups > limit:
        return (
            f"First cut the SPF record's DNS lookups: the new record would need "
            f"{suggestion.lookups} (limit {limit}); {CUT_HOW}, and then:",
            *change,
        )
    return change


def _spf_conflict(expected: ExpectedRecord, records: list[str], ctx: Context) -> Judgement:
    checks = [ctx.spf_checks.get(r) for r in records]
    suggestion = _spf_suggestion(records, expected, ctx, checks)
    why = (
        f"{len(records)} SPF records: receivers reject that as an SPF error "
        "(permerror, RFC 7208 section 4.5)"
    )
    if not suggestion.record:
        fix = f"Replace the {len(records)} SPF records with one by hand: {suggestion.why_not}"
        return Judgement(Verdict.CONFLICT, (fix,), why)
    replace_them = (f"Replace the {len(records)} SPF records with one: TXT {suggestion.txt}",)
    return Judgement(
        Verdict.CONFLICT,
        _cut_first(replace_them, suggestion, ctx.profile.spf_lookup_limit),
        "; ".join([why, *suggestion.changes]),
    )


def _spf_detail(check: spf.Check, limit: int) -> str:
    floor = "" if check.counted else "at least "
    plural = "" if check.lookups == 1 else "s"
    parts = [f"{floor}{check.lookups} DNS lookup{plural} (limit {limit})"]
    if check.voids:
        parts.append(f"{len(check.voids)} find nothing ({', '.join(check.voids)}; limit 2)")
    return "; ".join([*parts, *check.notes])


def _not_authorised(record: str, include: str, check: spf.Check) -> str:
    blocked = check.blocked.get(include)
    if blocked:
        outcome = {"-": "fails", "~": "softfails", "?": "is neutral for"}[blocked[0]]
        return f"{blocked} {outcome} Microsoft 365's servers: it does not authorise them"
    if include in spf.includes(record):
        return f"include:{include} comes after all: receivers never reach it"
    return f"does not include {include}"


def _spf_permerror_fixes(
    record: str, check: spf.Check, suggestion: spf.Suggestion, limit: int
) -> tuple[str, ...]:
    fixes: list[str] = []
    if check.lookups > limit:
        costly = sorted(check.costs, key=lambda c: -c[1])
        listed = ", ".join(f"{term} costs {n}" for term, n in costly if n > 1)
        floor = "" if check.counted else "at least "
        fixes.append(
            f"Cut the SPF record to {limit} DNS lookups or fewer (it needs {floor}"
            f"{check.lookups}): {CUT_HOW}" + (f" ({listed})" if listed else "")
        )
    if check.broken and suggestion.record:
        fixes += _spf_change(record, suggestion, limit)
    for error in check.permerrors:
        if error.startswith("needs ") or any(f" {b} has " in error for b in check.broken):
            continue
        fixes.append(f"Correct the SPF record: {error}")
    return tuple(fixes)


def _kept_note(record: str, ctx: Context) -> str:
    kept = [i for i in spf.includes(record) if i in ctx.spf_keep]
    if not kept or ctx.source is None:
        return ""
    terms = ", ".join(f"include:{i}" for i in kept)
    if ctx.mx_moved:
        return f"keeps {terms} of {ctx.source.title}: the cleanup step says when it can go"
    return f"keeps {terms}: mail is still sent from {ctx.source.title} until MX has moved"


HYBRID_KEEP = "hybrid: keep until the last mailbox has moved"


def _hybrid(result: RecordResult, ctx: Context) -> RecordResult:
    """With on-premises Exchange kept during the move, public autodiscover pointing on-premises
    is expected until MX has moved (the last mailbox moved): not wrong, the later fix shown."""
    if result.id != "autodiscover" or not ctx.hybrid or ctx.mx_moved:
        return result
    if result.verdict not in (Verdict.WRONG, Verdict.LEGACY, Verdict.CONFLICT):
        return result
    later = "; ".join(result.fixes)
    points = ", ".join(result.found)
    detail = f"{HYBRID_KEEP} (points to {points})" + (f"; then: {later}" if later else "")
    return replace(result, verdict=Verdict.OK, fix="", fixes=(), detail=detail)


# --------------------------------------------------------------- per server -> one result


def _values(rdatas: Sequence[dns.rdata.Rdata]) -> tuple[str, ...]:
    return tuple(sorted(value_text(r) for r in rdatas))


def _typed_values(rdatas: Sequence[dns.rdata.Rdata]) -> tuple[str, ...]:
    return tuple(sorted(typed_value(r) for r in rdatas))


def _names(servers: Sequence[str]) -> str:
    return ", ".join(servers)


def evaluate_record(
    expected: ExpectedRecord,
    answers: Mapping[str, ServerAnswer],
    ctx: Context,
    resolver: ServerAnswer | None = None,
    at_name: Mapping[str, ServerAnswer] | None = None,
) -> RecordResult:
    """One profile record from every authoritative server's answer (server label -> answer);
    ``at_name``: each server's answer to ANY at the record's name, for a CNAME (what it would
    conflict with)."""
    result = _evaluate_record(expected, answers, ctx, resolver, at_name)
    return _after_verification(expected, result, ctx)


def _after_verification(
    expected: ExpectedRecord, result: RecordResult, ctx: Context
) -> RecordResult:
    """A record needed only until the domain is verified: optional once Graph says it is."""
    tenant = ctx.tenant
    if not expected.until_verified or tenant is None or tenant.domain != ctx.domain:
        return result
    if tenant.verified is not True:
        return result
    if result.verdict is Verdict.MISSING:
        return replace(
            result,
            verdict=Verdict.OK,
            required=False,
            fix="",
            fixes=(),
            detail="not needed: Microsoft 365 shows the domain as verified",
        )
    detail = "Microsoft 365 shows the domain as verified: this record can be removed"
    return replace(result, required=False, detail="; ".join(filter(None, [result.detail, detail])))


def _evaluate_record(
    expected: ExpectedRecord,
    answers: Mapping[str, ServerAnswer],
    ctx: Context,
    resolver: ServerAnswer | None,
    at_name: Mapping[str, ServerAnswer] | None,
) -> RecordResult:
    expected, source = expectation(expected, ctx)
    name = expected.owner(ctx.domain)
    per_server = {s: relevant(expected, a.rdatas) for s, a in answers.items() if not a.failed}
    failed = {s: a for s, a in answers.items() if a.failed}
    servers = {s: _values(r) for s, r in per_server.items()}
    groups: dict[tuple[str, ...], list[str]] = {}
    for server, values in servers.items():
        groups.setdefault(values, []).append(server)
    found = next(iter(servers.values()), ())
    servers.update({s: (f"<{a.reason or a.outcome.value}>",) for s, a in failed.items()})
    ttls = [a.ttl for s, a in answers.items() if a.ttl is not None and per_server.get(s)]
    first = next(iter(per_server.values()), [])
    base = RecordResult(
        id=expected.id,
        verdict=Verdict.UNKNOWN,
        name=name,
        type=expected.type,
        expected=expected.expected(ctx.domain),
        found=found,
        fix="",
        servers=servers,
        ttl=min(ttls) if ttls else None,
        required=expected.required,
        resolver=None
        if resolver is None or resolver.failed
        else _values(relevant(expected, resolver.rdatas)),
        expected_from=source.value,
    )
    if failed or not answers:
        reasons = "; ".join(f"{s}: {a.reason or a.outcome.value}" for s, a in failed.items())
        return replace(
            base,
            detail=f"no answer from {reasons}" if reasons else "no authoritative server to ask",
        )
    if len(groups) > 1:
        return _inconsistent(expected, per_server, groups, ctx, base)
    judgement = judge(expected, first, ctx)
    if (
        expected.type == "CNAME"
        and judgement.verdict is Verdict.MISSING
        and all(a.outcome is Outcome.NOANSWER for a in answers.values())
    ):
        # the name exists with other data: a CNAME cannot sit beside it
        beside = {s: _typed_values(a.rdatas) for s, a in (at_name or {}).items() if a.rdatas}
        others = tuple(sorted({v for values in beside.values() for v in values}))
        deletes = tuple(f"Delete {name} {v}" for v in others)
        listed = f" ({', '.join(others)})" if others else " of another type"
        judgement = Judgement(
            Verdict.CONFLICT,
            (*(deletes or (f"Delete the other records at {name}",)), *judgement.fixes),
            f"{name} has records{listed}; a CNAME must be alone at its name",
        )
        if others:
            base = replace(base, found=others, servers={**base.servers, **beside})
    detail = judgement.detail
    if expected.note:
        detail = "; ".join(filter(None, [detail, expected.note]))
    return replace(
        base,
        verdict=judgement.verdict,
        fix="\n".join(judgement.fixes),
        fixes=judgement.fixes,
        detail=detail,
    )


def _inconsistent(
    expected: ExpectedRecord,
    per_server: Mapping[str, Sequence[dns.rdata.Rdata]],
    groups: Mapping[tuple[str, ...], list[str]],
    ctx: Context,
    base: RecordResult,
) -> RecordResult:
    verdicts = {
        values: judge(expected, per_server[servers[0]], ctx) for values, servers in groups.items()
    }
    detail = "servers disagree: " + "; ".join(
        f"{_names(servers)} has {', '.join(values) or 'nothing'}"
        for values, servers in groups.items()
    )
    good = [s for v, ss in groups.items() if verdicts[v].verdict is Verdict.OK for s in ss]
    behind = [s for v, ss in groups.items() if verdicts[v].verdict is not Verdict.OK for s in ss]
    if good:
        fixes: tuple[str, ...] = (
            f"Make {_names(behind)} serve the same as {_names(good)} "
            "(check its zone copy: SOA serial, zone transfers)",
        )
    else:
        first = verdicts[next(iter(groups))]
        fixes = (
            "Make every authoritative server serve the same records "
            "(check zone transfers), and then:",
            *first.fixes,
        )
    return replace(
        base, verdict=Verdict.INCONSISTENT, fix="\n".join(fixes), fixes=fixes, detail=detail
    )


def evaluate_legacy(
    legacy: LegacyRecord, answers: Mapping[str, ServerAnswer], domain: str
) -> RecordResult | None:
    """A legacy record that any server still serves, as a result to delete; else None."""
    name = legacy.owner(domain)
    holding = {s: _values(a.rdatas) for s, a in answers.items() if a.rdatas}
    if not holding:
        return None
    found = next(iter(holding.values()))
    fixes = tuple(f"Delete {name} {legacy.type} {v}" for v in found)
    servers = {s: _values(a.rdatas) for s, a in answers.items() if not a.failed}
    return RecordResult(
        id=legacy.id,
        verdict=Verdict.LEGACY,
        name=name,
        type=legacy.type,
        expected="(none)",
        found=found,
        fix="\n".join(fixes),
        fixes=fixes,
        servers=servers,
        ttl=min(a.ttl for a in answers.values() if a.ttl is not None and a.rdatas),
        detail=legacy.note,
    )


# ------------------------------------------------------------------------ the whole audit


def questions(domain: str, profile: Profile) -> list[Question]:
    """Every (name, type) the audit asks, each once, in profile order; then ANY at each name
    that needs a CNAME, to name what a CNAME there would conflict with."""
    asked: dict[Question, None] = {}
    for record in profile.records:
        asked[Question(record.owner(domain), record.type)] = None
    for legacy in profile.legacy_records:
        asked[Question(legacy.owner(domain), legacy.type)] = None
    for record in profile.records:
        if record.type == "CNAME":
            asked[Question(record.owner(domain), "ANY")] = None
    for name in dkim_names(domain):  # the source platforms' DKIM keys, for the cleanup
        asked[Question(name, "TXT")] = None
    return list(asked)


def dkim_names(domain: str) -> tuple[str, ...]:
    selectors = dict.fromkeys(s for src in sources.SOURCES.values() for s in src.dkim_selectors)
    return tuple(f"{s}._domainkey.{domain}" for s in selectors)


@dataclass(frozen=True)
class Observations:
    """Everything the I/O part gathered for one domain."""

    domain: str
    display_domain: str
    answers: Mapping[Question, Mapping[str, ServerAnswer]]  # question -> server -> answer
    resolver_view: Mapping[Question, ServerAnswer] = field(default_factory=dict)
    resolver: str = ""
    spf_checks: Mapping[str, spf.Check] = field(default_factory=dict)  # record text -> walk
    tenant: TenantTruth | None = None  # the tenant's records for this domain, from Graph
    mta_sts: PolicyFetch | None = None  # the policy fetch, when _mta-sts holds a record
    source: Source | None = None  # chosen by a person; None: detect it from MX and SPF
    hybrid: bool = False  # on-premises Exchange kept during the move
    # MX host -> its A and AAAA values, from the resolver: an on-premises one is the company's
    # own server (a host not in it is not known to be)
    mx_addresses: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


def mx_is_microsoft365(answer: ServerAnswer, profile: Profile) -> bool:
    """One server's MX answer sends mail to Microsoft 365 (:func:`mail_goes_to_microsoft365`)."""
    return mail_goes_to_microsoft365(_exchanges(answer.rdatas), profile)


def _microsoft_mx(observed: Observations, profile: Profile) -> tuple[tuple[str, ...], str]:
    """The Microsoft 365 MX hosts an MTA-STS policy must cover, and where they come from: the
    tenant's host from Graph ("tenant"); else the Microsoft 365 hosts in MX today ("mx", the
    first server that answered); else the usual host ("guess")."""
    truth = observed.tenant
    if truth is not None and truth.domain == observed.domain and truth.mx_host:
        return (truth.mx_host,), "tenant"
    for answer in observed.answers.get(Question(observed.domain, "MX"), {}).values():
        if answer.outcome is Outcome.ANSWER:
            hosts = {h for _, h in _exchanges(answer.rdatas) if profile.is_microsoft365_host(h)}
            if hosts:
                return tuple(sorted(hosts)), "mx"
            break
    mx_record = next(r for r in profile.records if r.rule is Rule.MX)
    return (mx_record.target(observed.domain),), "guess"


def mail_auth_context(observed: Observations, profile: Profile) -> mailauth.MailAuthContext:
    hosts, source = _microsoft_mx(observed, profile)
    return mailauth.MailAuthContext(
        domain=observed.domain,
        policy=observed.mta_sts,
        microsoft_mx=hosts,
        microsoft_mx_exact=source == "tenant",
        microsoft_mx_guessed=source == "guess",
    )


def _mx_blockers(
    expected: ExpectedRecord, result: RecordResult, ctx: mailauth.MailAuthContext
) -> tuple[str, ...]:
    """What any server's MTA-STS record says against moving MX (each server's values judged:
    a policy on some servers only still reaches the senders that ask those)."""
    blockers: dict[str, None] = {}
    for values in {v for v in result.servers.values() if not _failed_values(v)}:
        judged = mailauth.judge_mta_sts(expected, list(values), ctx)
        if judged.blocks_mx:
            blockers[judged.blocks_mx] = None
    return tuple(blockers)


def through_aliases(
    answers: Mapping[str, ServerAnswer], resolver: ServerAnswer | None
) -> Mapping[str, ServerAnswer]:
    """A server that answers with only a CNAME out of its zone (a hosted DMARC or MTA-STS
    record) gives no record itself: what senders get is the resolver's answer at the chain's
    end, so that stands for it. Without that answer the server's is unknown, never missing."""
    out: dict[str, ServerAnswer] = {}
    for server, answer in answers.items():
        if not (answer.alias and answer.outcome is Outcome.NOANSWER):
            out[server] = answer
        elif resolver is not None and not resolver.failed:
            out[server] = replace(resolver, alias=answer.alias)
        else:
            reason = f"CNAME to {answer.alias}, which the resolver could not follow"
            out[server] = ServerAnswer(Outcome.ERROR, reason=reason, alias=answer.alias)
    return out


def _failed_values(values: tuple[str, ...]) -> bool:
    return len(values) == 1 and values[0].startswith("<") and values[0].endswith(">")


def _finish_mail_auth(
    results: list[RecordResult], profile: Profile, ctx: mailauth.MailAuthContext
) -> tuple[list[RecordResult], tuple[str, ...], tuple[str, ...]]:
    """One ``dkim`` line for both selectors; records shown only when present dropped when
    absent; MTA-STS required once published; the MX blockers and the report's warnings."""
    by_rule = {r.id: r for r in profile.records}
    dkim = [r for r in results if by_rule.get(r.id) is not None and by_rule[r.id].rule is Rule.DKIM]
    merged = mailauth.merge_selectors(dkim) if dkim else None
    out: list[RecordResult] = []
    blockers: tuple[str, ...] = ()
    for result in results:
        expected = by_rule.get(result.id)
        if expected is None or expected.rule not in MAIL_AUTH_RULES:
            out.append(result)
            continue
        if expected.rule is Rule.DKIM:
            if result is dkim[0] and merged is not None:
                out.append(merged)
            continue
        if expected.only_when_present and not result.found:
            continue
        if expected.rule is Rule.MTA_STS:
            published = bool(result.found)  # not when no server answered: nothing known
            result = replace(result, required=published)
            blockers = _mx_blockers(expected, result, ctx)
        out.append(result)
    if blockers:  # the MX fix stands, but not yet: say so where it is read
        wait = "not yet: the MTA-STS policy must list Microsoft 365's MX first (see mta-sts)"
        out = [
            replace(r, detail="; ".join(filter(None, [r.detail, wait])))
            if by_rule.get(r.id) is not None and by_rule[r.id].rule is Rule.MX and r.fixes
            else r
            for r in out
        ]
    dmarc = next((r for r in out if r.id == "dmarc"), None)
    warning = mailauth.dmarc_warning(dmarc, merged)
    return out, blockers, (warning,) if warning else ()


def _union(answers: Mapping[str, ServerAnswer]) -> tuple[list[dns.rdata.Rdata], bool]:
    """Every value any server serves, and whether every server answered."""
    rdatas: list[dns.rdata.Rdata] = []
    for answer in answers.values():
        rdatas += [r for r in answer.rdatas if r not in rdatas]
    return rdatas, bool(answers) and not any(a.failed for a in answers.values())


def seen(observed: Observations) -> Seen:
    domain = observed.domain
    mx, mx_all = _union(observed.answers.get(Question(domain, "MX"), {}))
    txt, txt_all = _union(observed.answers.get(Question(domain, "TXT"), {}))
    auto, auto_all = _union(observed.answers.get(Question(f"autodiscover.{domain}", "ANY"), {}))
    dkim: dict[str, tuple[str, ...]] = {}
    complete = mx_all and txt_all and auto_all
    for name in dkim_names(domain):
        values, answered = _union(observed.answers.get(Question(name, "TXT"), {}))
        dkim[name] = tuple(value_text(r) for r in values)
        complete = complete and answered
    return Seen(
        domain=domain,
        exchanges=tuple(_exchanges(mx)),
        txt=tuple(value_text(r) for r in txt),
        dkim=dkim,
        autodiscover=tuple(
            typed_value(r)
            for r in auto
            if r.rdtype in (dns.rdatatype.CNAME, dns.rdatatype.A, dns.rdatatype.AAAA)
        ),
        complete=complete,
    )


def _microsoft(profile: Profile) -> Callable[[str], bool]:
    """Hosts that are Microsoft's (today's, or a retired Exchange Online name), not a source;
    BPOS/FOPE is a source of its own."""

    def is_microsoft(host: str) -> bool:
        if profile.is_microsoft365_host(host):
            return True
        return profile.is_legacy_host(host) and not sources.BPOS.is_host(host)

    return is_microsoft


def _spf_needs(now: Seen, checks: Mapping[str, spf.Check], profile: Profile) -> frozenset[str]:
    """The top-level include targets through which the apex SPF records authorise Microsoft
    365: the cleanup must not remove them. A record not walked to the end without Microsoft
    365 found: any of its includes may be the one, so all of them."""
    include = profile.spf_include
    # Microsoft 365's own include, whatever the walk says: another provider, guessed from its
    # MX host's domain, may be under the same domain (outlook.com)
    needed: set[str] = {include}
    for record in (t for t in now.txt if spf.is_spf(t)):
        check = checks.get(record)
        path = check.passes.get(include, ()) if check is not None else ()
        if path:
            needed.add(path[0])
        elif not path and (check is None or not check.counted):
            needed.update(spf.includes(record))
    return frozenset(needed)


def hosts_to_locate(
    domain: str, answers: Iterable[ServerAnswer], profile: Profile
) -> tuple[str, ...]:
    """The MX hosts in ``answers`` whose addresses the audit must look up: those whose source
    only the address tells (:func:`bot.dnscheck.sources.needs_address`)."""
    exchanges = [e for answer in answers for e in _exchanges(answer.rdatas)]
    return sources.needs_address(domain, exchanges, _microsoft(profile))


def _detect(
    domain: str,
    exchanges: Sequence[tuple[int, str]],
    txt: Iterable[str],
    addresses: Mapping[str, Sequence[str]],
    profile: Profile,
) -> sources.Detected:
    includes = [i for t in txt if spf.is_spf(t) for i in spf.includes(t)]
    return sources.detect(domain, exchanges, includes, _microsoft(profile), addresses)


def detect_source(
    domain: str,
    mx: ServerAnswer,
    txt: ServerAnswer,
    addresses: Mapping[str, Sequence[str]],
    profile: Profile,
) -> sources.Detected:
    """The source from one server's (the resolver's) MX and apex TXT answers, as the audit
    detects it from every server's."""
    texts = [value_text(r) for r in txt.rdatas]
    return _detect(domain, _exchanges(mx.rdatas), texts, addresses, profile)


def evaluate_audit(observed: Observations, profile: Profile, servers: Sequence[str]) -> Audit:
    domain = observed.domain
    auth = mail_auth_context(observed, profile)
    now = seen(observed)
    includes = [i for t in now.txt if spf.is_spf(t) for i in spf.includes(t)]
    addresses = observed.mx_addresses
    detected = _detect(domain, now.exchanges, now.txt, addresses, profile)
    source = observed.source or detected.source
    if source is not None and source.own_server:  # chosen too: its hosts on premises
        source = sources.own_server(now.exchanges, addresses)
    mx_answers = observed.answers.get(Question(domain, "MX"), {})
    on_m365 = tuple(s for s, a in mx_answers.items() if mx_is_microsoft365(a, profile))
    mx_moved = bool(mx_answers) and len(on_m365) == len(mx_answers)
    # an include without an SPF record makes the whole record an error (permerror): it sends
    # nothing and is never kept
    broken = {b for check in observed.spf_checks.values() for b in check.broken}
    keep = frozenset(
        i
        for i in includes
        if source is not None and source.is_include(i, domain) and i not in broken
    )
    needed = _spf_needs(now, observed.spf_checks, profile)
    ctx = Context(
        domain,
        profile,
        observed.spf_checks,
        observed.tenant,
        auth,
        source=source,
        spf_keep=keep,
        hybrid=observed.hybrid,
        mx_moved=mx_moved,
    )
    results: list[RecordResult] = []
    for record in profile.records:
        question = Question(record.owner(domain), record.type)
        answers = observed.answers.get(question, {})
        view = observed.resolver_view.get(question)
        if record.rule in MAIL_AUTH_RULES and record.type == "TXT":
            answers = through_aliases(answers, view)
        judged = evaluate_record(
            record, answers, ctx, view, observed.answers.get(Question(question.name, "ANY"))
        )
        aliases = sorted({a.alias for a in answers.values() if a.alias})
        if aliases:
            via = f"through the CNAME to {', '.join(aliases)}"
            judged = replace(judged, detail="; ".join(filter(None, [judged.detail, via])))
        results.append(_hybrid(judged, ctx))
    results, mx_blockers, warnings = _finish_mail_auth(results, profile, auth)
    for legacy in profile.legacy_records:
        answers = observed.answers.get(Question(legacy.owner(domain), legacy.type), {})
        result = evaluate_legacy(legacy, answers, domain)
        if result is not None:
            results.append(result)
    all_failed = bool(servers) and all(
        a.failed for per_server in observed.answers.values() for a in per_server.values()
    )
    error, message = None, ""
    if all_failed or not servers:
        error = AuditErrorKind.UNREACHABLE
        message = unreachable_message(observed.display_domain, observed.answers, servers)
    return Audit(
        domain=domain,
        display_domain=observed.display_domain,
        records=tuple(results),
        servers=tuple(servers),
        error=error,
        error_message=message,
        mx_on_microsoft365=mx_moved,
        mx_servers_on_microsoft365=on_m365,
        resolver=observed.resolver,
        tenant_note=observed.tenant.note if observed.tenant is not None else "",
        warnings=warnings,
        mx_blockers=mx_blockers,
        source=source.name if source is not None else "",
        source_title=source.title if source is not None else "",
        source_chosen=observed.source is not None,
        mail_now=detected.sentence,
        leftovers=leftovers(
            now,
            source,
            profile.is_microsoft365_host,
            needed,
            mx_moved=mx_moved,
            microsoft_include=profile.spf_include,
        ),
        leftovers_known=now.complete,
    )


def unreachable_message(
    display: str,
    answers: Mapping[Question, Mapping[str, ServerAnswer]],
    servers: Sequence[str],
) -> str:
    if not servers:
        return f"could not reach any name server of {display}: none of its NS names has an address"
    reasons: dict[str, str] = {}
    for per_server in answers.values():
        for server, answer in per_server.items():
            reasons.setdefault(server, answer.reason or answer.outcome.value)
    listed = "; ".join(f"{s}: {r}" for s, r in reasons.items())
    return f"could not reach any authoritative server of {display} ({listed})"
