"""The mail-authentication rules without a network: RFC 8461's policy and mx patterns, and the
verdicts from hand-built answers (the tenant's exact DKIM and MX from Graph, servers that
disagree about a policy)."""

from __future__ import annotations

import dns.rcode
from hypothesis import given
from hypothesis import strategies as st

from bot.dnscheck.evaluate import (
    Observations,
    Outcome,
    Question,
    ServerAnswer,
    answer_from_message,
    evaluate_audit,
    questions,
    through_aliases,
)
from bot.dnscheck.model import Verdict
from bot.dnscheck.mta_sts import (
    Mode,
    PolicyFetch,
    mx_matches,
    parse_policy,
    sts_records,
    txt_id,
    wildcard_for,
)
from bot.dnscheck.profile import MICROSOFT365
from bot.dnscheck.tenant import TenantRecord, TenantTruth
from tests.dnscheck.test_evaluate import NS1, NS2, answer, both, response

D = "contoso.com"
ENFORCE_OLD = "version: STSv1\nmode: enforce\nmx: mail.contoso.com\nmax_age: 604800\n"


def test_mx_patterns_match_as_rfc_8461_says() -> None:
    assert mx_matches("*.mail.protection.outlook.com", "contoso-com.mail.protection.outlook.com")
    assert mx_matches("MAIL.contoso.com.", "mail.contoso.com")
    assert not mx_matches("*.mail.protection.outlook.com", "mail.protection.outlook.com")
    # a wildcard stands for one label only: *.mx.microsoft misses <dashed>.o-v1.mx.microsoft
    assert not mx_matches("*.mx.microsoft", "contoso-com.o-v1.mx.microsoft")
    assert wildcard_for("contoso-com.o-v1.mx.microsoft") == "*.o-v1.mx.microsoft"


labels = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?", fullmatch=True)


@given(st.lists(labels, min_size=2, max_size=5), labels)
def test_a_wildcard_covers_exactly_one_more_label(parent: list[str], extra: str) -> None:
    pattern = "*." + ".".join(parent)
    assert mx_matches(pattern, f"{extra}.{'.'.join(parent)}")
    assert not mx_matches(pattern, ".".join(parent))
    assert not mx_matches(pattern, f"{extra}.{extra}.{'.'.join(parent)}")


def test_policy_parsing() -> None:
    policy = parse_policy(
        "version: STSv1\r\nmode: enforce\r\nmx: mail.contoso.com\r\n"
        "mx: *.mail.protection.outlook.com\r\nmax_age: 86400\r\nextension: ignored\r\n"
    )
    assert policy.valid and policy.mode is Mode.ENFORCE and policy.max_age == 86400
    assert policy.mx == ("mail.contoso.com", "*.mail.protection.outlook.com")
    assert parse_policy("mode: enforce\nmax_age: 1\nmx: a.b\n").errors == (
        "no `version: STSv1` line",
    )
    assert "no `mx:` line" in parse_policy("version: STSv1\nmode: testing\nmax_age: 1\n").errors
    assert parse_policy("version: STSv1\nmode: none\nmax_age: 1\n").valid
    assert not parse_policy("version: STSv1\nmode: strict\nmx: a.b\nmax_age: 1\n").valid


def test_txt_records_and_ids() -> None:
    assert sts_records(["v=STSv1; id=20261201", "v=spf1 -all", "v=STSv10; id=1"]) == [
        "v=STSv1; id=20261201"
    ]
    assert txt_id("v=STSv1; id=20261201;") == "20261201"
    assert txt_id("v=STSv1; id=2026-12-01") is None  # only letters and digits
    assert txt_id("v=STSv1; id=" + "a" * 33) is None
    assert txt_id("v=STSv1") is None


def _answers(
    mx: str = "10 mail.contoso.com.",
    sts: tuple[ServerAnswer, ServerAnswer] | None = None,
    dkim: str = "",
) -> dict[Question, dict[str, ServerAnswer]]:
    answers = {q: both(answer(q.name, q.type)) for q in questions(D, MICROSOFT365)}
    for selector in ("selector1", "selector2"):  # absent names: NXDOMAIN, as a server says
        name = f"{selector}._domainkey.{D}"
        for rdtype in ("CNAME", "ANY"):
            answers[Question(name, rdtype)] = both(answer(name, rdtype, rcode=dns.rcode.NXDOMAIN))
    answers[Question(D, "MX")] = both(answer(D, "MX", mx))
    if sts is not None:
        answers[Question(f"_mta-sts.{D}", "TXT")] = {NS1: sts[0], NS2: sts[1]}
    if dkim:
        name = f"selector1._domainkey.{D}"
        answers[Question(name, "CNAME")] = both(answer(name, "CNAME", dkim))
    return answers


def _observe(answers: dict[Question, dict[str, ServerAnswer]], **kw: object) -> Observations:
    return Observations(domain=D, display_domain=D, answers=answers, **kw)  # type: ignore[arg-type]


STS_TXT = answer(f"_mta-sts.{D}", "TXT", '"v=STSv1; id=1"')
NO_TXT = answer(f"_mta-sts.{D}", "TXT")
FETCHED = PolicyFetch("https://mta-sts.contoso.com/.well-known/mta-sts.txt", ENFORCE_OLD)


def test_a_policy_on_one_server_only_still_blocks_the_move() -> None:
    """Senders asking the server that serves it get the policy: the blocker stands."""
    audit = evaluate_audit(
        _observe(_answers(sts=(STS_TXT, NO_TXT)), mta_sts=FETCHED), MICROSOFT365, [NS1, NS2]
    )
    sts = audit.record("mta-sts")
    assert sts is not None and sts.verdict is Verdict.INCONSISTENT
    assert len(audit.mx_blockers) == 1 and "enforce mode" in audit.mx_blockers[0]


def test_the_tenants_exact_mx_is_what_the_policy_must_name() -> None:
    exact = "contoso-com.o-v1.mx.microsoft"
    tenant = TenantTruth(D, (TenantRecord("MX", D, exact, 0),), verified=True)
    policy = "version: STSv1\nmode: enforce\nmx: *.mail.protection.outlook.com\nmax_age: 1\n"
    fetched = PolicyFetch(FETCHED.url, policy)
    audit = evaluate_audit(
        _observe(_answers(sts=(STS_TXT, STS_TXT)), mta_sts=fetched, tenant=tenant),
        MICROSOFT365,
        [NS1, NS2],
    )
    sts = audit.record("mta-sts")
    assert sts is not None and sts.verdict is Verdict.WRONG
    assert f"`mx: {exact}`" in sts.fix  # the exact host, not a wildcard that misses it
    assert exact in audit.mx_blockers[0]


def test_with_the_tenants_dkim_value_only_that_value_passes() -> None:
    exact = "selector1-contoso-com._domainkey.contoso.n-v1.dkim.mail.microsoft"
    name = f"selector1._domainkey.{D}"
    tenant = TenantTruth(
        D,
        (
            TenantRecord("MX", D, "contoso-com.mail.protection.outlook.com", 0),
            TenantRecord("CNAME", name, exact),
        ),
        verified=True,
    )
    other = "selector1-contoso-com._domainkey.fabrikam.onmicrosoft.com."
    wrong = evaluate_audit(
        _observe(_answers(dkim=other), tenant=tenant), MICROSOFT365, [NS1, NS2]
    ).record("dkim")
    assert wrong is not None and wrong.verdict is Verdict.WRONG
    assert f"Change {name} CNAME to {exact}" in wrong.fix
    right = evaluate_audit(
        _observe(_answers(dkim=exact + "."), tenant=tenant), MICROSOFT365, [NS1, NS2]
    ).record("dkim")
    assert right is not None and "points to" not in right.detail  # selector1 passes
    assert right.verdict is Verdict.MISSING  # selector2 is still to add
    # without Graph, any onmicrosoft.com form of Microsoft's passes
    default = evaluate_audit(_observe(_answers(dkim=other)), MICROSOFT365, [NS1, NS2])
    dkim = default.record("dkim")
    assert dkim is not None and "points to" not in dkim.detail


def test_a_cname_out_of_the_zone_takes_the_resolvers_answer_or_is_unknown() -> None:
    """An authoritative server holding only `_dmarc CNAME elsewhere` has no record itself."""
    name = f"_dmarc.{D}"
    reply = response(name, "CNAME", "_dmarc.provider.example.")
    only_alias = answer_from_message(reply, Question(name, "TXT"))
    assert only_alias.outcome is Outcome.NOANSWER and only_alias.alias == "_dmarc.provider.example"
    resolved = ServerAnswer(Outcome.ANSWER, answer(name, "TXT", '"v=DMARC1; p=none"').rdatas, 300)
    followed = through_aliases({NS1: only_alias}, resolved)
    assert followed[NS1].outcome is Outcome.ANSWER and followed[NS1].rdatas == resolved.rdatas
    unknown = through_aliases({NS1: only_alias}, ServerAnswer(Outcome.TIMEOUT, reason="timeout"))
    assert unknown[NS1].failed  # never "missing": the record may well be there
    answers = _answers()
    answers[Question(name, "TXT")] = {NS1: only_alias, NS2: only_alias}
    audit = evaluate_audit(_observe(answers), MICROSOFT365, [NS1, NS2])
    dmarc = audit.record("dmarc")
    assert dmarc is not None and dmarc.verdict is Verdict.UNKNOWN  # no resolver view to follow
