"""The tenant's own records from Graph as the expected values (pure rules, no network)."""

from __future__ import annotations

from bot.dnscheck.evaluate import Context, evaluate_record
from bot.dnscheck.model import Verdict
from bot.dnscheck.profile import MICROSOFT365
from bot.dnscheck.tenant import TenantTruth, from_graph
from tests.dnscheck.test_evaluate import D, answer, both, record

# what Graph returns for contoso.com (shapes from the domainDnsRecord docs)
SERVICE_RECORDS = [
    {
        "recordType": "Mx",
        "label": D,
        "mailExchange": "contoso-com.o-v1.mx.microsoft",
        "preference": 0,
        "isOptional": False,
        "supportedService": "Email",
    },
    {
        "recordType": "CName",
        "label": "autodiscover." + D,
        "canonicalName": "autodiscover.outlook.com",
        "supportedService": "Email",
    },
    {
        "recordType": "Txt",
        "label": D,
        "text": "v=spf1 include:spf.protection.outlook.com -all",
        "supportedService": "Email",
    },
    {
        "recordType": "Srv",
        "label": D,
        "nameTarget": "sipfed.online.lync.com",
        "port": 5061,
        "priority": 100,
        "protocol": "_tcp",
        "service": "_sipfederationtls",
        "weight": 1,
        "supportedService": "OfficeCommunicationsOnline",
    },
]
VERIFICATION = [
    {"recordType": "Txt", "label": D, "text": "MS=ms44556677"},
    {
        "recordType": "Mx",
        "label": D,
        "mailExchange": "ms44556677.msv1.invalid",
        "preference": 32767,
    },
]


def truth(verified: bool | None = True) -> TenantTruth:
    return from_graph(D, SERVICE_RECORDS, VERIFICATION, verified)


def ctx(t: TenantTruth | None = None) -> Context:
    return Context(D, MICROSOFT365, tenant=t if t is not None else truth())


def test_graph_records_become_data() -> None:
    t = truth()
    assert t.mx_host == "contoso-com.o-v1.mx.microsoft"
    srv = t.find("SRV", "_sipfederationtls._tcp." + D)
    assert [r.value for r in srv] == ["100 1 5061 sipfed.online.lync.com"]
    assert t.verification == ("MS=ms44556677",)
    assert TenantTruth.from_json(t.to_json()) == t


def test_the_tenants_mx_is_compared_exactly() -> None:
    ok = evaluate_record(
        record("mx"), both(answer(D, "MX", "0 contoso-com.o-v1.mx.microsoft.")), ctx()
    )
    assert ok.verdict is Verdict.OK and ok.expected_from == "tenant"
    assert ok.expected == "0 contoso-com.o-v1.mx.microsoft"
    other = evaluate_record(
        record("mx"), both(answer(D, "MX", "0 contoso-com.mail.protection.outlook.com.")), ctx()
    )
    assert other.verdict is Verdict.WRONG
    assert "points to another Microsoft 365 MX than this tenant's" in other.detail
    # the other Microsoft 365 MX is never deleted by a fix: only the tenant's is added
    assert other.fixes == ("Add MX 0 contoso-com.o-v1.mx.microsoft",)


def test_without_the_tenant_any_microsoft_host_is_ok_and_the_text_says_where_to_look() -> None:
    plain = Context(D, MICROSOFT365)
    result = evaluate_record(
        record("mx"),
        both(answer(D, "MX", "0 contosouk-com01b.mail.protection.outlook.com.")),
        plain,
    )
    assert result.verdict is Verdict.OK and result.expected_from == "default"
    assert result.expected == (
        "the MX value shown in the Microsoft 365 admin center (Settings › Domains), "
        "usually contoso-com.mail.protection.outlook.com"
    )


def test_a_graph_answer_without_records_keeps_the_defaults() -> None:
    refused = TenantTruth(D, note="Graph refused to read the domain's records (HTTP 403)")
    result = evaluate_record(
        record("autodiscover"),
        both(answer("autodiscover." + D, "CNAME", "autodiscover.outlook.com.")),
        ctx(refused),
    )
    assert result.verdict is Verdict.OK and result.expected_from == "default"


def test_tenant_cname_and_srv_values_are_expected_from_the_tenant() -> None:
    name = "autodiscover." + D
    result = evaluate_record(
        record("autodiscover"), both(answer(name, "CNAME", "autodiscover.outlook.com.")), ctx()
    )
    assert result.verdict is Verdict.OK and result.expected_from == "tenant"
    srv_name = "_sipfederationtls._tcp." + D
    srv = evaluate_record(
        record("sip-federation"),
        both(answer(srv_name, "SRV", "100 1 5061 sipfed.online.lync.com.")),
        ctx(),
    )
    assert srv.verdict is Verdict.OK and srv.expected_from == "tenant"
    # Graph listed no sip CNAME: the profile's default is expected
    sip = evaluate_record(
        record("sip"), both(answer("sip." + D, "CNAME", "sipdir.online.lync.com.")), ctx()
    )
    assert sip.expected_from == "default"


def test_verification_txt_is_required_until_verified_then_can_be_removed() -> None:
    txt = both(answer(D, "TXT", '"MS=ms44556677"', '"v=spf1 -all"'))
    unverified = evaluate_record(record("verification"), txt, ctx(truth(verified=False)))
    assert unverified.required and unverified.verdict is Verdict.OK
    assert unverified.expected == "MS=ms44556677" and unverified.expected_from == "tenant"
    verified = evaluate_record(record("verification"), txt, ctx(truth(verified=True)))
    assert not verified.required and verified.verdict is Verdict.OK
    assert "can be removed" in verified.detail
    gone = evaluate_record(record("verification"), both(answer(D, "TXT", '"v=spf1 -all"')), ctx())
    assert gone.verdict is Verdict.OK and not gone.required and gone.fixes == ()
    still_needed = evaluate_record(
        record("verification"), both(answer(D, "TXT", '"v=spf1 -all"')), ctx(truth(verified=False))
    )
    assert still_needed.verdict is Verdict.MISSING and still_needed.required
    assert still_needed.fix.startswith("Add TXT MS=ms44556677")


def test_a_wrong_verification_value_is_missing_the_tenants_value() -> None:
    other = both(answer(D, "TXT", '"MS=ms11111111"'))
    result = evaluate_record(record("verification"), other, ctx(truth(verified=False)))
    assert result.verdict is Verdict.MISSING
    assert "MS=ms44556677" in result.fix


def test_a_second_srv_beside_the_right_one_is_a_conflict() -> None:
    name = "_sipfederationtls._tcp." + D
    two = both(
        answer(name, "SRV", "100 1 5061 sipfed.online.lync.com.", "10 1 5061 edge.contoso.com.")
    )
    result = evaluate_record(record("sip-federation"), two, Context(D, MICROSOFT365))
    assert result.verdict is Verdict.CONFLICT
    assert result.fixes == (f"Delete {name} SRV 10 1 5061 edge.contoso.com",)


def test_an_unverified_domain_expects_the_tenants_verification_txt() -> None:
    unverified = from_graph(D, [], VERIFICATION, False)
    assert unverified.records == ()  # Graph lists no service records before verification
    result = evaluate_record(
        record("verification"), both(answer(D, "TXT", '"v=spf1 -all"')), ctx(unverified)
    )
    assert result.verdict is Verdict.MISSING and result.required
    assert result.fixes == ("Add TXT MS=ms44556677",) and result.expected_from == "tenant"
    mx = evaluate_record(
        record("mx"),
        both(answer(D, "MX", "0 contoso-com.mail.protection.outlook.com.")),
        ctx(unverified),
    )
    assert mx.expected_from == "default" and mx.verdict is Verdict.OK
