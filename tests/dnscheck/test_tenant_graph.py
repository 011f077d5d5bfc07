"""The tenant's own records from Microsoft Graph (a local fake over TLS with a trustme CA),
cached per tenant in the real database, used by the audit against a real BIND."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.blocks.check import record_text
from bot.dnscheck.audit import audit_domain
from bot.dnscheck.model import Verdict
from bot.dnscheck.report import to_json
from bot.mailbox.form import validate_graph_form
from bot.mailbox.graph import DomainReader
from bot.ops.secrets import SecretBox, generate_key
from bot.services.common import Caller
from bot.services.mailbox import save_graph_credentials
from bot.services.tenant_truth import audit_tenant, truths_for_tenant
from storage.uow import UnitOfWork
from tests.support.bind import BindServer
from tests.support.fake_graph import FakeGraph
from tests.watch.tenants import REQUESTER, TEAM, channel_for, start_tenants

DOMAIN = "token-mx.test"  # tests/zones: MX 0 tokenmx-test01b.mail.protection.outlook.com
TOKEN_MX = "tokenmx-test01b.mail.protection.outlook.com"
T0 = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


def service_records(domain: str, mx: str) -> list[dict[str, Any]]:
    """serviceConfigurationRecords as Graph lists them (domainDnsRecord shapes)."""
    return [
        {"recordType": "Mx", "label": domain, "mailExchange": mx, "preference": 0},
        {
            "recordType": "Txt",
            "label": domain,
            "text": "v=spf1 include:spf.protection.outlook.com -all",
        },
        {
            "recordType": "CName",
            "label": f"autodiscover.{domain}",
            "canonicalName": "autodiscover.outlook.com",
        },
        {
            "recordType": "Srv",
            "label": domain,
            "service": "_sipfederationtls",
            "protocol": "_tcp",
            "priority": 100,
            "weight": 1,
            "port": 5061,
            "nameTarget": "sipfed.online.lync.com",
        },
    ]


def graph_domain(mx: str = TOKEN_MX, verified: bool = True) -> dict[str, Any]:
    return {
        "isVerified": verified,
        "service": service_records(DOMAIN, mx),
        "verification": [{"recordType": "Txt", "label": DOMAIN, "text": "MS=ms20260100"}],
    }


async def tenant_with_graph(
    uow_factory: Callable[[], UnitOfWork], fake_graph: FakeGraph, box: SecretBox
) -> int:
    tenant = (await start_tenants(uow_factory, [DOMAIN]))[DOMAIN]
    form = validate_graph_form(
        fake_graph.azure_tenant_id, "0f0e0d0c-0b0a-0908-0706-050403020100", "s3cret", "", ""
    )
    fake_graph.client_id, fake_graph.client_secret = form.client_id, "s3cret"
    caller = Caller(TEAM, REQUESTER, channel_for(DOMAIN))
    await save_graph_credentials(uow_factory(), caller, tenant, form, box, is_admin=True)
    return tenant


async def test_reader_turns_graph_records_into_truth(fake_graph: FakeGraph) -> None:
    fake_graph.domains = {DOMAIN: graph_domain(), "unverified.test": {"isVerified": False}}
    reader = DomainReader(fake_graph.config)
    known, missing, unverified = await reader.truths(
        fake_graph.credentials, [DOMAIN, "elsewhere.test", "unverified.test"]
    )
    assert known.mx_host == TOKEN_MX and known.verified is True and known.note == ""
    assert known.verification == ("MS=ms20260100",)
    assert known.find("SRV", f"_sipfederationtls._tcp.{DOMAIN}")[0].value == (
        "100 1 5061 sipfed.online.lync.com"
    )
    assert missing.records == () and "not a domain of your Microsoft 365 tenant" in missing.note
    assert unverified.verified is False and "is not verified" in unverified.note
    assert fake_graph.count("/serviceConfigurationRecords") == 1  # not asked for the unverified


async def test_missing_permission_is_one_line_and_defaults(
    bind: BindServer, fake_graph: FakeGraph
) -> None:
    fake_graph.domains = {DOMAIN: graph_domain()}
    fake_graph.domains_forbidden = True
    (truth,) = await DomainReader(fake_graph.config).truths(fake_graph.credentials, [DOMAIN])
    assert "Domain.Read.All" in truth.note and "HTTP 403" in truth.note
    audit = await audit_domain(DOMAIN, bind.dns_config(), tenant=truth)
    assert audit.tenant_note == truth.note
    assert {r.expected_from for r in audit.records} == {"default"}
    assert audit.record("mx").verdict is Verdict.OK  # type: ignore[union-attr]
    assert to_json(audit)["tenant_note"] == truth.note


async def test_the_tenants_mx_is_expected_and_another_microsoft_mx_is_wrong(
    bind: BindServer, fake_graph: FakeGraph
) -> None:
    reader = DomainReader(fake_graph.config)
    fake_graph.domains = {DOMAIN: graph_domain()}
    (truth,) = await reader.truths(fake_graph.credentials, [DOMAIN])
    audit = await audit_domain(DOMAIN, bind.dns_config(), tenant=truth)
    mx = audit.record("mx")
    assert mx is not None and mx.verdict is Verdict.OK and mx.expected_from == "tenant"
    by_id = {r["id"]: r for r in to_json(audit)["records"]}
    assert by_id["mx"]["expected_from"] == "tenant"
    assert by_id["autodiscover"]["expected_from"] == "tenant"
    assert by_id["sip"]["expected_from"] == "default"  # Graph listed no sip record
    verification = audit.record("verification")
    assert verification is not None and not verification.required
    assert "can be removed" in verification.detail

    fake_graph.domains = {DOMAIN: graph_domain(mx="tokenmx-test.o-v1.mx.microsoft")}
    (other,) = await reader.truths(fake_graph.credentials, [DOMAIN])
    wrong = (await audit_domain(DOMAIN, bind.dns_config(), tenant=other)).record("mx")
    assert wrong is not None and wrong.verdict is Verdict.WRONG
    assert "points to another Microsoft 365 MX than this tenant's" in wrong.detail
    assert wrong.fixes == ("Add MX 0 tokenmx-test.o-v1.mx.microsoft",)  # nothing deleted
    text = record_text(wrong)
    assert "Expected: `0 tokenmx-test.o-v1.mx.microsoft` _(from your Microsoft 365 tenant)_" in text


async def test_cached_per_tenant_a_day_and_read_again_on_recheck(
    bind: BindServer,
    fake_graph: FakeGraph,
    uow_factory: Callable[[], UnitOfWork],
) -> None:
    box = SecretBox(generate_key())
    tenant = await tenant_with_graph(uow_factory, fake_graph, box)
    fake_graph.domains = {DOMAIN: graph_domain()}
    reader = DomainReader(fake_graph.config)

    async def read(now: datetime, refresh: bool = False) -> str | None:
        found = await truths_for_tenant(
            uow_factory, tenant, [DOMAIN], reader, box, refresh=refresh, now=now
        )
        return found[DOMAIN].mx_host

    assert await read(T0) == TOKEN_MX
    assert fake_graph.count("/serviceConfigurationRecords") == 1
    fake_graph.domains = {DOMAIN: graph_domain(mx="tokenmx-test.o-v1.mx.microsoft")}
    assert await read(T0 + timedelta(hours=23)) == TOKEN_MX  # from the cache
    assert fake_graph.count("/serviceConfigurationRecords") == 1
    assert await read(T0 + timedelta(hours=23), refresh=True) == "tokenmx-test.o-v1.mx.microsoft"
    assert fake_graph.count("/serviceConfigurationRecords") == 2
    fake_graph.domains = {DOMAIN: graph_domain()}
    assert await read(T0 + timedelta(hours=46)) == "tokenmx-test.o-v1.mx.microsoft"  # cached
    assert await read(T0 + timedelta(hours=47)) == TOKEN_MX  # a day old: read again
    assert fake_graph.count("/serviceConfigurationRecords") == 3


async def test_graph_unreachable_keeps_the_last_values_with_a_note(
    bind: BindServer,
    fake_graph: FakeGraph,
    uow_factory: Callable[[], UnitOfWork],
) -> None:
    box = SecretBox(generate_key())
    tenant = await tenant_with_graph(uow_factory, fake_graph, box)
    fake_graph.domains = {DOMAIN: graph_domain()}
    reader = DomainReader(fake_graph.config)
    await truths_for_tenant(uow_factory, tenant, [DOMAIN], reader, box, now=T0)
    fake_graph.script_429("/v1.0/domains/", times=50)  # Graph busy past every retry
    (audit,) = await audit_tenant(
        uow_factory, tenant, [DOMAIN], bind.dns_config(), reader, box, refresh=True
    )
    assert audit.tenant_note.startswith("Could not read your tenant's records from Graph")
    assert "HTTP 429" in audit.tenant_note
    assert "Using your tenant's values read 2026-12-02 09:00 UTC" in audit.tenant_note
    assert audit.record("mx").expected_from == "tenant"  # type: ignore[union-attr]


async def test_a_tenant_without_an_app_registration_gets_defaults_and_no_note(
    bind: BindServer, fake_graph: FakeGraph, uow_factory: Callable[[], UnitOfWork]
) -> None:
    tenant = (await start_tenants(uow_factory, [DOMAIN]))[DOMAIN]
    reader = DomainReader(fake_graph.config)
    (audit,) = await audit_tenant(
        uow_factory, tenant, [DOMAIN], bind.dns_config(), reader, SecretBox(generate_key())
    )
    assert audit.tenant_note == "" and fake_graph.requests == []
    assert {r.expected_from for r in audit.records} == {"default"}
