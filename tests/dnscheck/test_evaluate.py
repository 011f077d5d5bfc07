"""The rules without a network: hand-built DNS responses in, verdicts and fixes out."""

from __future__ import annotations

from dataclasses import replace

import dns.exception
import dns.flags
import dns.message
import dns.rcode
import dns.rrset

from bot.dnscheck import sources
from bot.dnscheck.evaluate import (
    Context,
    Observations,
    Outcome,
    Question,
    ServerAnswer,
    answer_from_error,
    answer_from_message,
    evaluate_audit,
    evaluate_record,
    questions,
)
from bot.dnscheck.leftovers import Seen, leftovers
from bot.dnscheck.model import AuditErrorKind, RecordResult, Verdict
from bot.dnscheck.profile import MICROSOFT365, ExpectedRecord
from bot.dnscheck.sources import Source
from bot.dnscheck.spf import Answer, evaluate

D = "contoso.com"
NS1, NS2 = "ns1.contoso.com (192.0.2.1)", "ns2.contoso.com (192.0.2.2)"
MICROSOFT_SPF = "v=spf1 ip4:40.92.0.0/15 ip6:2a01:111:f400::/48 -all"
GOOD_SPF = "v=spf1 include:spf.protection.outlook.com -all"
# the walk of the SPF record the audit found, as audit.py hands it over
SPF_WALKED = {
    GOOD_SPF: evaluate(
        GOOD_SPF, D, {("spf.protection.outlook.com", "TXT"): Answer((MICROSOFT_SPF,))}
    )
}
CTX = Context(D, MICROSOFT365, SPF_WALKED)


def usual(dashed: str) -> str:
    """What an MX fix adds when the tenant's own MX is not known."""
    return (
        "<host from the Microsoft 365 admin center, Settings › Domains; "
        f"usually {dashed}.mail.protection.outlook.com>"
    )


def record(record_id: str) -> ExpectedRecord:
    return next(r for r in MICROSOFT365.records if r.id == record_id)


def response(
    name: str,
    rdtype: str,
    *values: str,
    rcode: dns.rcode.Rcode = dns.rcode.NOERROR,
    aa: bool = True,
) -> dns.message.Message:
    query = dns.message.make_query(name, rdtype)
    reply = dns.message.make_response(query)
    reply.set_rcode(rcode)
    if aa:
        reply.flags |= dns.flags.AA
    if values:
        reply.answer.append(dns.rrset.from_text(name + ".", 300, "IN", rdtype, *values))
    return dns.message.from_wire(reply.to_wire())  # as it arrives from the network


def answer(name: str, rdtype: str, *values: str, **kwargs: object) -> ServerAnswer:
    return answer_from_message(response(name, rdtype, *values, **kwargs), Question(name, rdtype))  # type: ignore[arg-type]


def both(a: ServerAnswer, b: ServerAnswer | None = None) -> dict[str, ServerAnswer]:
    return {NS1: a, NS2: b or a}


def test_classifies_responses() -> None:
    assert answer(D, "MX", "0 x.test.").outcome is Outcome.ANSWER
    assert answer(D, "MX").outcome is Outcome.NOANSWER
    assert answer(D, "MX", rcode=dns.rcode.NXDOMAIN).outcome is Outcome.NXDOMAIN
    assert answer(D, "MX", rcode=dns.rcode.SERVFAIL).failed
    assert answer(D, "MX", rcode=dns.rcode.REFUSED).outcome is Outcome.REFUSED
    lame = answer(D, "MX", aa=False)
    assert lame.failed and lame.reason == "not authoritative for the domain"
    assert answer_from_error(TimeoutError()).outcome is Outcome.ERROR
    assert answer(D, "MX", "0 x.test.").ttl == 300


def test_mx_on_microsoft365_is_ok_at_any_priority() -> None:
    result = evaluate_record(
        record("mx"), both(answer(D, "MX", "10 contoso-com.mail.protection.outlook.com.")), CTX
    )
    assert result.verdict is Verdict.OK and result.fix == "" and result.ttl == 300
    assert result.servers == {NS1: ("10 contoso-com.mail.protection.outlook.com",)} | {
        NS2: ("10 contoso-com.mail.protection.outlook.com",)
    }


def test_bpos_mx_is_legacy_with_add_and_delete() -> None:
    result = evaluate_record(
        record("mx"), both(answer(D, "MX", "10 mail.global.frontbridge.com.")), CTX
    )
    assert result.verdict is Verdict.LEGACY
    assert result.fixes == (
        f"Add MX 0 {usual('contoso-com')}",
        "Delete MX 10 mail.global.frontbridge.com",
    )
    assert result.fix == "\n".join(result.fixes)


def test_other_mx_is_wrong_and_missing_mx_is_missing() -> None:
    wrong = evaluate_record(record("mx"), both(answer(D, "MX", "5 mail.contoso.com.")), CTX)
    assert wrong.verdict is Verdict.WRONG
    assert wrong.fixes == (
        f"Add MX 0 {usual('contoso-com')}",
        "Delete MX 5 mail.contoso.com",
    )
    lower = evaluate_record(
        record("mx"),
        both(answer(D, "MX", "0 mail.contoso.com.", "10 contoso-com.mail.protection.outlook.com.")),
        CTX,
    )
    assert lower.verdict is Verdict.WRONG and lower.fixes == ("Delete MX 0 mail.contoso.com",)
    missing = evaluate_record(record("mx"), both(answer(D, "MX", rcode=dns.rcode.NXDOMAIN)), CTX)
    assert missing.verdict is Verdict.MISSING
    assert missing.fix == f"Add MX 0 {usual('contoso-com')}"


def test_cname_wrong_target_has_a_change_fix() -> None:
    name = "autodiscover." + D
    result = evaluate_record(
        record("autodiscover"), both(answer(name, "CNAME", "mail.contoso.com.")), CTX
    )
    assert result.verdict is Verdict.WRONG
    assert result.fix == "Change autodiscover.contoso.com CNAME to autodiscover.outlook.com"
    assert result.expected == "autodiscover.outlook.com"
    assert result.found == ("mail.contoso.com",)


def test_srv_on_the_wrong_port_is_wrong() -> None:
    name = "_sipfederationtls._tcp." + D
    result = evaluate_record(
        record("sip-federation"),
        both(answer(name, "SRV", "100 1 5062 sipfed.online.lync.com.")),
        CTX,
    )
    assert result.verdict is Verdict.WRONG
    assert result.fix == f"Change {name} SRV to 100 1 5061 sipfed.online.lync.com"
    assert result.detail == "port 5062, needs 5061"


def test_spf_and_verification_share_the_txt_set() -> None:
    txt = answer(D, "TXT", '"MS=ms1234"', '"v=spf1 include:spf.protection.outlook.com -all"')
    spf_result = evaluate_record(record("spf"), both(txt), CTX)
    verification = evaluate_record(record("verification"), both(txt), CTX)
    assert spf_result.verdict is Verdict.OK and spf_result.detail == "1 DNS lookup (limit 10)"
    assert spf_result.found == ("v=spf1 include:spf.protection.outlook.com -all",)
    assert verification.verdict is Verdict.OK and verification.found == ("MS=ms1234",)


def test_two_spf_records_conflict() -> None:
    txt = answer(D, "TXT", '"v=spf1 include:spf.protection.outlook.com -all"', '"v=spf1 mx ~all"')
    result = evaluate_record(record("spf"), both(txt), CTX)
    assert result.verdict is Verdict.CONFLICT
    # one of the two ended ~all: the merge fails strangers no harder than the mildest did
    assert result.fix == (
        "Replace the 2 SPF records with one: "
        'TXT "v=spf1 include:spf.protection.outlook.com mx ~all"'
    )
    assert "(permerror, RFC 7208 section 4.5)" in result.detail


def test_spf_over_the_lookup_limit_is_wrong() -> None:
    spf_text = "v=spf1 include:big.test include:spf.protection.outlook.com -all"
    big = "v=spf1 " + " ".join(f"a:h{n}.big.test" for n in range(10)) + " -all"
    walked = evaluate(
        spf_text,
        D,
        {
            ("big.test", "TXT"): Answer((big,)),
            ("spf.protection.outlook.com", "TXT"): Answer((MICROSOFT_SPF,)),
        },
    )
    ctx = Context(D, MICROSOFT365, {spf_text: walked})
    result = evaluate_record(record("spf"), both(answer(D, "TXT", f'"{spf_text}"')), ctx)
    assert result.verdict is Verdict.WRONG
    assert result.fixes[0] == (
        "Cut the SPF record to 10 DNS lookups or fewer (it needs 12): flatten an include into "
        "the ip4:/ip6: ranges it lists, or remove the include of a sender the domain no longer "
        "uses (include:big.test costs 11)"
    )
    assert result.detail.startswith("receivers treat this SPF record as an error (permerror)")


def test_spf_not_walked_is_unknown_not_ok() -> None:
    txt = answer(D, "TXT", f'"{GOOD_SPF}"')
    result = evaluate_record(record("spf"), both(txt), Context(D, MICROSOFT365))
    assert result.verdict is Verdict.UNKNOWN
    assert (
        result.detail == "could not follow the SPF record: spf.protection.outlook.com was not asked"
    )


def test_servers_that_disagree_are_inconsistent_and_named() -> None:
    new = answer(D, "MX", "0 contoso-com.mail.protection.outlook.com.")
    old = answer(D, "MX", "10 mail.global.frontbridge.com.")
    result = evaluate_record(record("mx"), both(new, old), CTX)
    assert result.verdict is Verdict.INCONSISTENT
    assert NS2 in result.detail and NS1 in result.detail
    assert result.fix.startswith(f"Make {NS2} serve the same as {NS1}")
    assert result.servers[NS2] == ("10 mail.global.frontbridge.com",)


def test_timeout_servfail_refused_are_unknown_never_missing() -> None:
    for failure in (
        answer_from_error(dns.exception.Timeout()),
        answer(D, "MX", rcode=dns.rcode.SERVFAIL),
        answer(D, "MX", rcode=dns.rcode.REFUSED),
    ):
        result = evaluate_record(record("mx"), both(answer(D, "MX"), failure), CTX)
        assert result.verdict is Verdict.UNKNOWN, failure
        assert NS2 in result.detail and result.fix == ""
    assert evaluate_record(record("mx"), {}, CTX).verdict is Verdict.UNKNOWN


def observations(answers: dict[Question, dict[str, ServerAnswer]]) -> Observations:
    return Observations(domain=D, display_domain=D, answers=answers, spf_checks=SPF_WALKED)


def test_msoid_cname_shows_up_as_legacy_and_mx_flag_is_set() -> None:
    asked = questions(D, MICROSOFT365)
    answers = {q: both(answer(q.name, q.type)) for q in asked}
    answers[Question(D, "MX")] = both(answer(D, "MX", "0 contoso-com.mail.protection.outlook.com."))
    msoid = Question("msoid." + D, "CNAME")
    answers[msoid] = both(answer(msoid.name, "CNAME", "clientconfig.microsoftonline-p.net."))
    audit = evaluate_audit(observations(answers), MICROSOFT365, [NS1, NS2])
    legacy = audit.record("msoid")
    assert legacy is not None and legacy.verdict is Verdict.LEGACY
    assert legacy.fix == "Delete msoid.contoso.com CNAME clientconfig.microsoftonline-p.net"
    assert audit.mx_on_microsoft365 and audit.mx_servers_on_microsoft365 == (NS1, NS2)
    assert audit.needs_change and audit.error is None
    ids = [i for i in MICROSOFT365.record_ids if i != "tls-rpt"]  # tls-rpt: shown when present
    assert [r.id for r in audit.records][: len(ids)] == ids


def test_every_server_failing_is_unreachable() -> None:
    timeout = ServerAnswer(Outcome.TIMEOUT, reason="timeout")
    answers = {q: both(timeout) for q in questions(D, MICROSOFT365)}
    audit = evaluate_audit(observations(answers), MICROSOFT365, [NS1, NS2])
    assert audit.error is AuditErrorKind.UNREACHABLE
    assert audit.error_message.startswith("could not reach any authoritative server of contoso.com")
    assert {r.verdict for r in audit.records} == {Verdict.UNKNOWN}
    assert not audit.mx_on_microsoft365


def test_a_cname_beside_other_records_names_them_in_found_and_fix() -> None:
    name = "enterpriseregistration." + D
    cname = both(answer(name, "CNAME"))  # NOERROR, no CNAME: the name holds something else
    beside = response(name, "ANY")
    beside.answer.append(dns.rrset.from_text(name + ".", 300, "IN", "A", "192.0.2.80"))
    beside.answer.append(dns.rrset.from_text(name + ".", 300, "IN", "TXT", '"hello"'))
    at_name = both(answer_from_message(beside, Question(name, "ANY")))
    result = evaluate_record(record("mdm-registration"), cname, CTX, at_name=at_name)
    assert result.verdict is Verdict.CONFLICT
    assert result.found == ("A 192.0.2.80", "TXT hello")
    assert result.fixes == (
        f"Delete {name} A 192.0.2.80",
        f"Delete {name} TXT hello",
        f"Add {name} CNAME enterpriseregistration.windows.net",
    )
    assert result.servers[NS1] == ("A 192.0.2.80", "TXT hello")
    # a server that answers ANY the RFC 8482 way (one HINFO) tells nothing: the fix stays general
    minimal = response(name, "ANY")
    minimal.answer.append(dns.rrset.from_text(name + ".", 300, "IN", "HINFO", '"RFC8482" ""'))
    refused = both(answer_from_message(minimal, Question(name, "ANY")))
    result = evaluate_record(record("mdm-registration"), cname, CTX, at_name=refused)
    assert result.verdict is Verdict.CONFLICT and result.found == ()
    assert result.fixes[0] == f"Delete the other records at {name}"


def test_sip_at_another_provider_is_legacy_but_a_wrong_port_is_wrong() -> None:
    sip = evaluate_record(
        record("sip"), both(answer("sip." + D, "CNAME", "sip.oldprovider.example.")), CTX
    )
    assert sip.verdict is Verdict.LEGACY
    assert sip.fix == "Change sip.contoso.com CNAME to sipdir.online.lync.com"
    name = "_sip._tls." + D
    other = evaluate_record(
        record("sip-tls"), both(answer(name, "SRV", "100 1 443 sip.oldprovider.example.")), CTX
    )
    assert other.verdict is Verdict.LEGACY
    port = evaluate_record(
        record("sip-tls"), both(answer(name, "SRV", "100 1 5061 sipdir.online.lync.com.")), CTX
    )
    assert port.verdict is Verdict.WRONG


def test_a_name_holding_other_data_needs_them_deleted_before_the_cname() -> None:
    name = "autodiscover." + D
    result = evaluate_record(record("autodiscover"), both(answer(name, "CNAME")), CTX)
    assert result.verdict is Verdict.CONFLICT
    assert result.fixes == (
        f"Delete the other records at {name}",
        f"Add {name} CNAME autodiscover.outlook.com",
    )
    gone = evaluate_record(
        record("autodiscover"), both(answer(name, "CNAME", rcode=dns.rcode.NXDOMAIN)), CTX
    )
    assert gone.fixes == (f"Add {name} CNAME autodiscover.outlook.com",)


def spf_verdict(
    spf_text: str, txt: dict[str, str], keep: frozenset[str] = frozenset()
) -> RecordResult:
    """The spf record's result for ``spf_text``, walked through ``txt`` (name -> SPF record)."""
    answers = {("spf.protection.outlook.com", "TXT"): Answer((MICROSOFT_SPF,))}
    answers |= {(name, "TXT"): Answer((text,)) for name, text in txt.items()}
    walked = evaluate(spf_text, D, answers)
    ctx = Context(D, MICROSOFT365, {spf_text: walked}, spf_keep=keep)
    return evaluate_record(record("spf"), both(answer(D, "TXT", f'"{spf_text}"')), ctx)


def test_spf_fix_that_would_pass_the_lookup_limit_says_to_cut_first() -> None:
    # ten lookups without Microsoft: adding its include would make every receiver fail it
    big = "v=spf1 " + " ".join(f"ip4:192.0.2.{n}" for n in range(3)) + " -all"
    names = {f"s{n}.test": big for n in range(10)}
    spf_text = "v=spf1 " + " ".join(f"include:{n}" for n in names) + " -all"
    result = spf_verdict(spf_text, names)
    assert result.verdict is Verdict.WRONG
    assert result.fixes[0] == (
        "First cut the SPF record's DNS lookups: the new record would need 11 "
        "(limit 10); flatten an include into the ip4:/ip6: ranges it lists, or remove the "
        "include of a sender the domain no longer uses, and then:"
    )
    assert result.fixes[1].endswith('include:spf.protection.outlook.com -all"')


def test_spf_fix_keeps_the_includes_it_is_told_to_keep() -> None:
    old = "v=spf1 include:spf.frontbridge.com -all"
    frontbridge = {"spf.frontbridge.com": "v=spf1 ip4:65.55.88.0/24 -all"}
    dropped = spf_verdict(old, frontbridge)
    assert dropped.verdict is Verdict.LEGACY
    assert dropped.fix.endswith('to "v=spf1 include:spf.protection.outlook.com -all"')
    kept = spf_verdict(old, frontbridge, keep=frozenset({"spf.frontbridge.com"}))
    assert kept.verdict is Verdict.WRONG
    assert kept.fix == (
        f'Change TXT "{old}" to '
        '"v=spf1 include:spf.frontbridge.com include:spf.protection.outlook.com -all"'
    )


def test_spf_with_an_include_that_ends_in_plus_all_is_wrong() -> None:
    result = spf_verdict(
        "v=spf1 include:spf.protection.outlook.com include:lazy.test -all",
        {"lazy.test": "v=spf1 +all"},
    )
    assert result.verdict is Verdict.WRONG
    assert result.detail.startswith("include:lazy.test ends in +all: anyone can send as")
    assert result.fix == (
        "Ask the owner of lazy.test to end its SPF record with ~all or -all "
        "(removing the include would also stop its real senders)"
    )


def test_spf_whose_include_timed_out_is_unknown() -> None:
    spf_text = "v=spf1 include:slow.test include:spf.protection.outlook.com -all"
    answers = {
        ("spf.protection.outlook.com", "TXT"): Answer((MICROSOFT_SPF,)),
        ("slow.test", "TXT"): Answer(failure="timeout"),
    }
    ctx = Context(D, MICROSOFT365, {spf_text: evaluate(spf_text, D, answers)})
    result = evaluate_record(record("spf"), both(answer(D, "TXT", f'"{spf_text}"')), ctx)
    assert result.verdict is Verdict.UNKNOWN
    assert result.detail == (
        "could not follow the SPF record: could not get the SPF record of slow.test (timeout)"
    )


def test_two_spf_records_whose_merge_passes_the_limit_say_to_cut_first() -> None:
    hosts = "v=spf1 " + " ".join(f"a:h{n}.test" for n in range(5)) + " -all"
    first, second = "v=spf1 include:one.test -all", "v=spf1 include:two.test ~all"
    answers = {
        ("one.test", "TXT"): Answer((hosts,)),
        ("two.test", "TXT"): Answer((hosts.replace("h", "k"),)),
        **{(f"{h}{n}.test", "A"): Answer(("192.0.2.1",)) for h in "hk" for n in range(5)},
    }
    walks = {r: evaluate(r, D, answers) for r in (first, second)}
    assert [w.lookups for w in walks.values()] == [6, 6]
    txt = answer(D, "TXT", f'"{first}"', f'"{second}"')
    result = evaluate_record(record("spf"), both(txt), Context(D, MICROSOFT365, walks))
    assert result.verdict is Verdict.CONFLICT
    # each alone is under 10; one record with both and Microsoft's include needs 13
    assert result.fixes[0].startswith(
        "First cut the SPF record's DNS lookups: the new record would need 13 (limit 10)"
    )
    assert result.fixes[1] == (
        "Replace the 2 SPF records with one: TXT "
        '"v=spf1 include:one.test include:two.test include:spf.protection.outlook.com ~all"'
    )


def moved_with_spf(spf_text: str, walks: dict[tuple[str, str], Answer], source: Source | None
                   ) -> Observations:  # fmt: skip
    """MX on Microsoft 365 on both servers, the apex TXT ``spf_text`` walked through ``walks``."""
    answers = {q: both(answer(q.name, q.type)) for q in questions(D, MICROSOFT365)}
    answers[Question(D, "MX")] = both(answer(D, "MX", "0 contoso-com.mail.protection.outlook.com."))
    answers[Question(D, "TXT")] = both(answer(D, "TXT", f'"{spf_text}"'))
    return Observations(
        domain=D,
        display_domain=D,
        answers=answers,
        spf_checks={spf_text: evaluate(spf_text, D, walks)},
        source=source,
    )


def test_cleanup_never_removes_the_own_include_that_authorises_microsoft365() -> None:
    # the company's own server, MX moved: its in-domain include also holds Microsoft 365's, so
    # dropping it would leave "v=spf1 -all" and fail every mail Microsoft 365 sends
    own = "v=spf1 include:_spf.contoso.com -all"
    inner = "v=spf1 ip4:203.0.113.25 include:spf.protection.outlook.com -all"
    google = "v=spf1 include:_spf.google.com include:spf.protection.outlook.com ~all"
    walks = {
        ("_spf.contoso.com", "TXT"): Answer((inner,)),
        ("_spf.google.com", "TXT"): Answer(("v=spf1 ip4:35.190.247.0/24 ~all",)),
        ("spf.protection.outlook.com", "TXT"): Answer((MICROSOFT_SPF,)),
    }
    for spf_text, source, fixes in (
        (own, sources.OWN, ()),
        (
            google,
            sources.GOOGLE,
            (f'Change TXT "{google}" to "v=spf1 include:spf.protection.outlook.com ~all"',),
        ),
    ):
        observed = moved_with_spf(spf_text, walks, source)
        audit = evaluate_audit(observed, MICROSOFT365, [NS1, NS2])
        assert audit.mx_on_microsoft365 and audit.leftovers_known
        assert tuple(f for r in audit.leftovers for f in r.fixes) == fixes, spf_text
        # not walked: which include holds Microsoft 365 is not known, so none is removed
        unwalked = evaluate_audit(replace(observed, spf_checks={}), MICROSOFT365, [NS1, NS2])
        assert not any(r.id == "source-spf" for r in unwalked.leftovers), spf_text


M365_INCLUDE = "spf.protection.outlook.com"


def test_cleanup_of_a_record_without_microsoft365_puts_its_include_in_the_sources_place() -> None:
    # MX moved, but the SPF record still names only Google: dropping Google's include would
    # leave "v=spf1 ~all", which fails every mail Microsoft 365 sends (the first rule)
    spf_text = "v=spf1 include:_spf.google.com ~all"
    walks = {("_spf.google.com", "TXT"): Answer(("v=spf1 ip4:35.190.247.0/24 ~all",))}
    observed = moved_with_spf(spf_text, walks, sources.GOOGLE)
    audit = evaluate_audit(observed, MICROSOFT365, [NS1, NS2])
    assert audit.mx_on_microsoft365 and audit.leftovers_known
    (fix,) = (f for r in audit.leftovers if r.id == "source-spf" for f in r.fixes)
    assert fix == f'Change TXT "{spf_text}" to "v=spf1 include:{M365_INCLUDE} ~all"'
    # the audit's own SPF row asks for the same record, so the two fixes agree
    spf_row = next(r for r in audit.records if r.id == "spf")
    assert f"include:{M365_INCLUDE}" in " ".join(spf_row.fixes)


def test_cleanup_deletes_only_the_sources_own_dkim_keys() -> None:
    # moving off Zoho (or an own server) while Google Workspace still signs with google._domainkey
    now = Seen(
        D,
        exchanges=((0, "contoso-com.mail.protection.outlook.com"),),
        dkim={
            f"google._domainkey.{D}": ("v=DKIM1; k=rsa; p=MIIBgoogle",),
            f"zoho._domainkey.{D}": ("v=DKIM1; k=rsa; p=MIIBzoho",),
        },
    )
    fixes = {
        source.name: [f for r in leftovers(now, source, MICROSOFT365.is_microsoft365_host,
                                           mx_moved=True, microsoft_include=M365_INCLUDE)
                      for f in r.fixes]
        for source in (sources.ZOHO, sources.OWN, sources.GOOGLE)
    }  # fmt: skip
    assert fixes == {
        "zoho": [f"Delete zoho._domainkey.{D} TXT (the DKIM key of Zoho Mail)"],
        "own-server": [],
        "google-workspace": [
            f"Delete google._domainkey.{D} TXT (the DKIM key of Google Workspace)"
        ],
    }


def test_a_guessed_provider_never_takes_microsoft365s_own_include_with_it() -> None:
    """Another provider is matched by its MX host's domain: one under outlook.com would match
    Microsoft 365's include too, and the cleanup must never remove that (the first rule)."""
    spf_text = "v=spf1 include:spf.protection.outlook.com include:spf.hoster.example -all"
    walks = {
        ("spf.protection.outlook.com", "TXT"): Answer((MICROSOFT_SPF,)),
        ("spf.hoster.example", "TXT"): Answer(("v=spf1 ip4:198.51.100.0/24 -all",)),
    }
    source = sources.by_name("other:smtp.outlook.com")
    assert source is not None and source.is_include("spf.protection.outlook.com")
    observed = moved_with_spf(spf_text, walks, source)
    audit = evaluate_audit(observed, MICROSOFT365, [NS1, NS2])
    assert audit.mx_on_microsoft365 and audit.leftovers_known
    # its only include under outlook.com is Microsoft 365's own: nothing to remove
    assert [r.id for r in audit.leftovers if r.id == "source-spf"] == []
