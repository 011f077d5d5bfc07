"""The guarantee: no fix, in any case we can build, deletes or replaces an MX that points to
Microsoft 365. Every zone in tests/zones through BIND, then generated MX sets (with and
without the tenant's own MX from Graph) through the rules."""

from __future__ import annotations

import re

import dns.flags
import dns.message
import dns.rrset
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.dnscheck.audit import audit_domain
from bot.dnscheck.evaluate import Context, Question, answer_from_message, evaluate_record
from bot.dnscheck.model import Audit, RecordResult, Verdict
from bot.dnscheck.profile import MICROSOFT365
from bot.dnscheck.tenant import TenantRecord, TenantTruth
from tests.support.bind import BindServer
from tests.support.bind_fixtures import ZONES_DIR

D = "contoso.com"
MX = next(r for r in MICROSOFT365.records if r.id == "mx")
REMOVING = re.compile(r"^(Delete|Replace|Change|Remove)\b(?P<what>.*?)(?: with | to |$)")


def removed_hosts(fix: str) -> list[str]:
    """The host names a fix line takes away: all of a Delete, the part before " with " of a
    Replace, the part before " to " of a Change."""
    match = REMOVING.match(fix)
    if match is None:
        return []
    words = re.split(r"[\s()<>;,]+", match.group("what"))
    return [w.lower().rstrip(".") for w in words if "." in w.strip(".")]


def microsoft_mx_removed(record: RecordResult) -> list[str]:
    """Fix lines of ``record`` that take away a Microsoft 365 exchange (the bug to catch)."""
    found_hosts = {v.split()[-1] for values in record.servers.values() for v in values if " " in v}
    microsoft = {h for h in found_hosts if MICROSOFT365.is_microsoft365_host(h)}
    return [
        fix
        for fix in record.fixes
        for host in removed_hosts(fix)
        if MICROSOFT365.is_microsoft365_host(host) or host in microsoft
    ]


def test_the_checker_catches_a_deleted_microsoft_mx() -> None:
    bad = RecordResult(
        id="mx",
        verdict=Verdict.WRONG,
        name=D,
        type="MX",
        expected="",
        found=("0 contosouk-com01b.mail.protection.outlook.com",),
        fix="",
        fixes=(
            "Delete MX 0 contosouk-com01b.mail.protection.outlook.com",
            "Replace MX 0 contoso-com.o-v1.mx.microsoft with MX 0 mail.contoso.com",
        ),
    )
    assert microsoft_mx_removed(bad) == list(bad.fixes)
    fine = "Replace the null MX (0 .) with MX 0 contoso-com.mail.protection.outlook.com"
    assert removed_hosts(fine) == []


def zone_origins() -> list[str]:
    return sorted({p.name.removesuffix(".zone") for p in ZONES_DIR.rglob("*.zone")})


async def test_no_zone_gets_a_fix_that_deletes_a_microsoft365_mx(bind: BindServer) -> None:
    origins = zone_origins()
    assert len(origins) >= 15  # every zone of the suite, not a hand-picked few
    audits: list[Audit] = [await audit_domain(o, bind.dns_config(timeout=0.5)) for o in origins]
    checked = 0
    for audit in audits:
        for record in audit.records:
            assert microsoft_mx_removed(record) == [], (audit.domain, record.id)
            checked += 1
    assert checked > 100
    # the cases that matter are among them: MX fixes were given beside a Microsoft 365 MX
    backup = next(a for a in audits if a.domain == "backup.test").record("mx")
    assert backup is not None and backup.fixes


HOSTS = [
    "contoso-com.mail.protection.outlook.com",
    "contosouk-com01b.mail.protection.outlook.com",
    "contoso-com.o-v1.mx.microsoft",
    "contoso-com.mail.protection.office365.us",
    "contoso-com.mail.eo.outlook.com",
    "mail.global.frontbridge.com",
    "mail.contoso.com",
    "backup.example.net",
    ".",
]


def mx_answer(pairs: list[tuple[int, str]]) -> dict[str, object]:
    query = dns.message.make_query(D, "MX")
    reply = dns.message.make_response(query)
    reply.flags |= dns.flags.AA
    if pairs:
        texts = [f"{p} {h if h == '.' else h + '.'}" for p, h in pairs]
        reply.answer.append(dns.rrset.from_text(D + ".", 300, "IN", "MX", *texts))
    message = dns.message.from_wire(reply.to_wire())
    return {"ns1 (192.0.2.1)": answer_from_message(message, Question(D, "MX"))}


@settings(max_examples=300, deadline=None)
@given(
    pairs=st.lists(
        st.tuples(st.sampled_from([0, 5, 10, 20]), st.sampled_from(HOSTS)),
        max_size=4,
        unique_by=lambda p: p[1],
    ),
    tenant_mx=st.none() | st.sampled_from(HOSTS[:4]),
)
def test_no_generated_mx_set_gets_a_fix_that_deletes_a_microsoft365_mx(
    pairs: list[tuple[int, str]], tenant_mx: str | None
) -> None:
    truth = None
    if tenant_mx is not None:
        truth = TenantTruth(D, (TenantRecord("MX", D, tenant_mx, 0),), verified=True)
    ctx = Context(D, MICROSOFT365, tenant=truth)
    result = evaluate_record(MX, mx_answer(pairs), ctx)  # type: ignore[arg-type]
    assert microsoft_mx_removed(result) == []
    hosts = {h for _, h in pairs}
    microsoft = {h for h in hosts if MICROSOFT365.is_microsoft365_host(h)}
    if microsoft and hosts == microsoft and (tenant_mx is None or hosts == {tenant_mx}):
        assert result.verdict is Verdict.OK
    else:
        assert result.verdict is not Verdict.OK
