"""The audit's I/O: ask the resolver, then every authoritative server directly, all at once.

Round trips in sequence, at most three:
  1. the resolver: NS of the domain, and every record (the resolver's view), together;
  2. the resolver: addresses of the NS names that came without glue;
  3. every authoritative server: every record, all concurrently.
SPF include expansion, the MTA-STS policy fetch and the addresses (A, AAAA) of the MX hosts
start when stage 1 brings the SPF, ``_mta-sts`` and MX records, and run beside 2 and 3 (an MX
host on premises is the company's own server). The SPF walk costs one round trip per level of
includes (Microsoft's include comes with stage 1), so up to two levels add none.
The rules live in ``evaluate.py``; this module only gathers answers for it.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import dns.asyncquery
import dns.asyncresolver
import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.nameserver
import dns.rdatatype
import dns.resolver
import idna

from bot.dnscheck import mta_sts, spf
from bot.dnscheck.evaluate import (
    Observations,
    Outcome,
    Question,
    ServerAnswer,
    answer_from_error,
    answer_from_message,
    detect_source,
    evaluate_audit,
    hosts_to_locate,
    questions,
    value_text,
)
from bot.dnscheck.model import Audit, AuditErrorKind, DnsConfig
from bot.dnscheck.mta_sts_fetch import fetch_policy
from bot.dnscheck.profile import MICROSOFT365, Profile, Rule
from bot.dnscheck.sources import Detected, Source
from bot.dnscheck.tenant import TenantTruth
from bot.dnscheck.udp import PreparedQuestion, ServerSocket
from bot.ops import metrics

# Queries in flight per event loop, across concurrent audits: a burst of thousands (a watch
# over many domains) overflows socket buffers and turns answers into false timeouts. One audit
# asks about 35 questions, so a single audit never waits for a slot.
MAX_IN_FLIGHT = 128
_slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
    weakref.WeakKeyDictionary()
)


def _query_slots() -> asyncio.Semaphore:
    loop = asyncio.get_running_loop()
    slots = _slots.get(loop)
    if slots is None:
        slots = _slots[loop] = asyncio.Semaphore(MAX_IN_FLIGHT)
    return slots


@dataclass(frozen=True)
class Server:
    name: str  # NS host name
    address: str

    @property
    def label(self) -> str:
        return f"{self.name} ({self.address})"


def make_resolver(config: DnsConfig) -> dns.asyncresolver.Resolver:
    if config.nameservers:
        resolver = dns.asyncresolver.Resolver(configure=False)
        resolver.nameservers = [
            dns.nameserver.Do53Nameserver(ip, port) for ip, port in config.nameservers
        ]
    else:
        resolver = dns.asyncresolver.Resolver()
    resolver.timeout = config.timeout
    resolver.lifetime = config.timeout
    resolver.cache = None
    return resolver


def resolver_label(config: DnsConfig) -> str:
    if not config.nameservers:
        return "system resolver"
    return ", ".join(f"{ip}:{port}" for ip, port in config.nameservers)


async def ask_resolver(
    resolver: dns.asyncresolver.Resolver, question: Question
) -> tuple[ServerAnswer, dns.message.Message | None]:
    """The resolver's answer, classified, with the response (for glue and SOA)."""
    try:
        async with _query_slots():
            with metrics.DNS_QUERY_LATENCY.time():
                answer = await resolver.resolve(
                    question.name, question.type, raise_on_no_answer=False, search=False
                )
    except dns.resolver.NXDOMAIN:
        return ServerAnswer(Outcome.NXDOMAIN), None
    except dns.resolver.LifetimeTimeout:
        return ServerAnswer(Outcome.TIMEOUT, reason="timeout"), None
    except dns.resolver.NoNameservers as exc:
        return ServerAnswer(Outcome.SERVFAIL, reason=_no_nameservers_reason(exc)), None
    except (dns.exception.DNSException, OSError) as exc:
        return answer_from_error(exc), None
    response = answer.response
    return answer_from_message(response, question, authoritative=False), response


def _no_nameservers_reason(exc: dns.resolver.NoNameservers) -> str:
    errors = exc.kwargs.get("errors") or []
    return str(errors[0][3]) if errors else "SERVFAIL"


async def ask_server(
    server: Server,
    question: Question,
    prepared: PreparedQuestion,
    sock: ServerSocket,
    config: DnsConfig,
) -> ServerAnswer:
    try:
        async with _query_slots():
            with metrics.DNS_QUERY_LATENCY.time():
                response = await sock.ask(
                    prepared, server.address, config.auth_port, config.timeout
                )
    except (dns.exception.DNSException, OSError, EOFError) as exc:
        return answer_from_error(exc)
    return answer_from_message(response, question)


def _glue(response: dns.message.Message | None, names: Sequence[str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    if response is None:
        return found
    for rrset in response.additional:
        owner = rrset.name.to_text(omit_final_dot=True).lower()
        if rrset.rdtype == dns.rdatatype.A and owner in names:
            found.setdefault(owner, []).extend(r.address for r in rrset)
    return found


async def _nameserver_names(
    resolver: dns.asyncresolver.Resolver, ns: ServerAnswer, message: dns.message.Message | None
) -> tuple[list[str], dns.message.Message | None]:
    """NS host names of the zone holding the domain (one more trip when it is not an apex:
    the negative answer's SOA names the zone)."""
    if ns.outcome is Outcome.ANSWER:
        return sorted(value_text(r) for r in ns.rdatas), message
    zone = None
    if message is not None:
        zone = next(
            (r.name for r in message.authority if r.rdtype == dns.rdatatype.SOA),
            None,
        )
    if zone is None:
        return [], message
    apex = zone.to_text(omit_final_dot=True)
    answer, reply = await ask_resolver(resolver, Question(apex, "NS"))
    return sorted(value_text(r) for r in answer.rdatas), reply


async def _addresses(
    resolver: dns.asyncresolver.Resolver, names: Sequence[str], glue: dict[str, list[str]]
) -> list[Server]:
    missing = [n for n in names if n not in glue]
    looked_up = await asyncio.gather(*(ask_resolver(resolver, Question(n, "A")) for n in missing))
    for name, (answer, _) in zip(missing, looked_up, strict=True):
        glue[name] = [value_text(r) for r in answer.rdatas]
    return [Server(n, ip) for n in names for ip in sorted(glue.get(n, []))]


def spf_lookup(resolver: dns.asyncresolver.Resolver) -> spf.Lookup:
    """The SPF walk's questions, asked of the resolver as a receiver would ask its own."""

    async def lookup(name: str, rdtype: str) -> spf.Answer:
        answer, _ = await ask_resolver(resolver, Question(name, rdtype))
        return _spf_answer(answer)

    return lookup


def _spf_answer(answer: ServerAnswer) -> spf.Answer:
    if answer.failed:
        return spf.Answer(failure=answer.reason or answer.outcome.value)
    return spf.Answer(tuple(value_text(r) for r in answer.rdatas))


async def _spf_checks(
    lookup: spf.Lookup,
    domain: str,
    answers: Iterable[ServerAnswer],
    limit: int,
    known: Mapping[spf.Query, spf.Answer],
) -> dict[str, spf.Check]:
    """Each distinct SPF record in ``answers`` walked, concurrently (two at one name are walked
    too: the fix that merges them must know what the merge costs)."""
    records = {
        found
        for answer in answers
        for found in spf.spf_records(value_text(r) for r in answer.rdatas)
    }
    checks = await asyncio.gather(
        *(spf.check(r, domain, lookup, limit=limit, known=known) for r in records)
    )
    return {check.record: check for check in checks}


async def _host_addresses(
    resolver: dns.asyncresolver.Resolver, hosts: Sequence[str]
) -> dict[str, tuple[str, ...]]:
    """Each host's A and AAAA values, all asked at once (a failed answer gives none)."""
    asked = [Question(h, t) for h in hosts for t in ("A", "AAAA")]
    answers = await asyncio.gather(*(ask_resolver(resolver, q) for q in asked))
    found: dict[str, tuple[str, ...]] = {h: () for h in hosts}
    for question, (answer, _) in zip(asked, answers, strict=True):
        found[question.name] += tuple(value_text(r) for r in answer.rdatas)
    return found


async def _mta_sts_policy(
    resolver: dns.asyncresolver.Resolver,
    txt: ServerAnswer | None,
    domain: str,
    config: DnsConfig,
) -> mta_sts.PolicyFetch | None:
    """The policy file, fetched only when the resolver shows a v=STSv1 record (RFC 8461 §3.3)."""
    if txt is None or not mta_sts.sts_records(value_text(r) for r in txt.rdatas):
        return None
    return await fetch_policy(domain, config, resolver)


def display_name(domain: str) -> str:
    try:
        return idna.decode(domain)
    except (idna.IDNAError, UnicodeError):
        return domain


def _error(domain: str, kind: AuditErrorKind, message: str, resolver: str) -> Audit:
    return Audit(
        domain=domain,
        display_domain=display_name(domain),
        error=kind,
        error_message=message,
        resolver=resolver,
    )


async def audit_domain(
    domain: str,
    config: DnsConfig,
    profile: Profile = MICROSOFT365,
    tenant: TenantTruth | None = None,
    *,
    source: Source | None = None,
    hybrid: bool = False,
) -> Audit:
    """Audit ``domain`` (ASCII, as :func:`bot.core.domain.parse_domain` gives it) against
    ``profile``,
    with the tenant's own records from Graph as the expected values when ``tenant`` has them.
    ``source``: the platform mail comes from, as a person chose it (default: detected);
    ``hybrid``: the tenant keeps its on-premises Exchange during the move.

    Never raises for DNS trouble: NXDOMAIN and unreachable servers come back as ``Audit.error``
    and unanswered questions as ``unknown`` verdicts.
    """
    domain = domain.rstrip(".").lower()
    display = display_name(domain)
    label = resolver_label(config)
    try:
        resolver = make_resolver(config)
    except dns.resolver.NoResolverConfiguration:
        message = "could not reach a DNS resolver: none is configured (set TRANSITION_NAMESERVERS)"
        return _error(domain, AuditErrorKind.UNREACHABLE, message, label)
    asked = questions(domain, profile)
    # A stub resolver refuses ANY (a meta-query) without sending it; only servers are asked ANY.
    resolver_asked = [q for q in asked if q.type != "ANY"]

    # Microsoft's SPF include, asked in stage 1 too: nearly every record the SPF walk follows
    # reaches it, and then its level of the walk costs no round trip of its own
    spf_include = Question(profile.spf_include.lower(), "TXT")
    # stage 1: the resolver's NS and its view of every record, together
    (ns, ns_response), (include_answer, _), *view_answers = await asyncio.gather(
        ask_resolver(resolver, Question(domain, "NS")),
        ask_resolver(resolver, spf_include),
        *(ask_resolver(resolver, q) for q in resolver_asked),
    )
    if ns.outcome is Outcome.NXDOMAIN:
        return _error(domain, AuditErrorKind.NXDOMAIN, f"{display} does not exist in DNS", label)
    if ns.failed:
        return _error(
            domain,
            AuditErrorKind.UNREACHABLE,
            f"could not reach the DNS resolver {label} to look up {display} ({ns.reason})",
            label,
        )
    view = {q: answer for q, (answer, _) in zip(resolver_asked, view_answers, strict=True)}
    spf_question = next(
        Question(r.owner(domain), r.type) for r in profile.records if r.rule is Rule.SPF
    )
    lookup = spf_lookup(resolver)
    limit = profile.spf_lookup_limit
    known = {(spf_include.name, "TXT"): _spf_answer(include_answer)}
    spf_task = asyncio.create_task(_spf_checks(lookup, domain, [view[spf_question]], limit, known))
    sts_question = next(
        (Question(r.owner(domain), r.type) for r in profile.records if r.rule is Rule.MTA_STS),
        None,
    )
    sts_answer = view.get(sts_question) if sts_question is not None else None
    policy_task = asyncio.create_task(_mta_sts_policy(resolver, sts_answer, domain, config))
    mx_question = Question(domain, "MX")
    resolver_mx = [view[mx_question]] if mx_question in view else []
    address_task = asyncio.create_task(
        _host_addresses(resolver, hosts_to_locate(domain, resolver_mx, profile))
    )
    try:
        # stage 2: addresses of the name servers that came without glue
        names, response = await _nameserver_names(resolver, ns, ns_response)
        servers = await _addresses(resolver, names, _glue(response, names))
        # stage 3: every record at every authoritative server at once, on one socket
        prepared = {q: PreparedQuestion(q.rdname, q.rdtype) for q in asked}
        async with ServerSocket() as sock:
            replies = await asyncio.gather(
                *(ask_server(s, q, prepared[q], sock, config) for q in asked for s in servers)
            )
        spf_checks = await spf_task
        policy = await policy_task
        mx_addresses = await address_task
    finally:
        spf_task.cancel()
        policy_task.cancel()
        address_task.cancel()
    answers: dict[Question, dict[str, ServerAnswer]] = {q: {} for q in asked}
    pairs = [(q, s) for q in asked for s in servers]
    for (question, server), reply in zip(pairs, replies, strict=True):
        answers[question][server.label] = reply
    # a record some server holds that the resolver did not show (a change on its way): walk it
    # too, so the servers' records are judged on their own walk
    unseen = [
        a
        for a in answers[spf_question].values()
        if not {value_text(r) for r in a.rdatas} & spf_checks.keys()
    ]
    if unseen:
        spf_checks |= await _spf_checks(lookup, domain, unseen, limit, known)
    # likewise an MX host only the servers show: its address, in one more round trip
    unlocated = [
        h
        for h in hosts_to_locate(domain, answers.get(mx_question, {}).values(), profile)
        if h not in mx_addresses
    ]
    if unlocated:
        mx_addresses |= await _host_addresses(resolver, unlocated)
    observed = Observations(
        domain=domain,
        display_domain=display,
        answers=answers,
        resolver_view=view,
        resolver=label,
        spf_checks=spf_checks,
        tenant=tenant,
        mta_sts=policy,
        source=source,
        hybrid=hybrid,
        mx_addresses=mx_addresses,
    )
    return evaluate_audit(observed, profile, [s.label for s in servers])


async def detect_domain_source(
    domain: str, config: DnsConfig, profile: Profile = MICROSOFT365
) -> Detected | None:
    """Where mail for ``domain`` comes from, as the resolver sees it: its MX and TXT, then the
    addresses of the MX hosts that need them (two round trips). None when it could not tell."""
    domain = domain.rstrip(".").lower()
    try:
        resolver = make_resolver(config)
    except dns.resolver.NoResolverConfiguration:
        return None
    (mx, _), (txt, _) = await asyncio.gather(
        ask_resolver(resolver, Question(domain, "MX")),
        ask_resolver(resolver, Question(domain, "TXT")),
    )
    if mx.failed or txt.failed:
        return None
    addresses = await _host_addresses(resolver, hosts_to_locate(domain, [mx], profile))
    return detect_source(domain, mx, txt, addresses, profile)
