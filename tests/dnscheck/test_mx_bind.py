"""MX shapes of today's Microsoft 365 tenants, through a real BIND (tests/zones)."""

from __future__ import annotations

from bot.dnscheck.audit import audit_domain
from bot.dnscheck.model import Audit, RecordResult, Verdict
from tests.support.bind import BindServer


def mx_of(audit: Audit) -> RecordResult:
    mx = audit.record("mx")
    assert mx is not None
    return mx


async def test_token_style_mx_is_microsoft365(bind: BindServer) -> None:
    audit = await audit_domain("token-mx.test", bind.dns_config())
    mx = mx_of(audit)
    assert mx.verdict is Verdict.OK and mx.fixes == ()
    assert mx.found == ("0 tokenmx-test01b.mail.protection.outlook.com",)
    assert audit.mx_on_microsoft365 and audit.mx_warning.startswith("MX already points")


async def test_mx_microsoft_host_is_microsoft365(bind: BindServer) -> None:
    audit = await audit_domain("mxms.test", bind.dns_config())
    mx = mx_of(audit)
    assert mx.verdict is Verdict.OK and mx.fixes == ()
    assert audit.mx_on_microsoft365
    assert len(audit.mx_servers_on_microsoft365) == 2


async def test_backup_mx_beside_microsoft365_is_named_for_deletion(bind: BindServer) -> None:
    audit = await audit_domain("backup.test", bind.dns_config())
    mx = mx_of(audit)
    assert mx.verdict is Verdict.WRONG
    assert mx.fixes == ("Delete MX 20 backup-mx.backup.test",)  # never the Microsoft 365 one
    assert "DANE forbids a fallback" in mx.detail
    # mail already goes to Microsoft 365 (its preference is the lowest): the move happened
    assert audit.mx_on_microsoft365


async def test_legacy_exchange_online_host(bind: BindServer) -> None:
    audit = await audit_domain("legacyeo.test", bind.dns_config())
    mx = mx_of(audit)
    assert mx.verdict is Verdict.LEGACY
    assert mx.fixes[0].startswith("Add MX 0 <host from the Microsoft 365 admin center")
    assert mx.fixes[1:] == ("Delete MX 10 legacyeo-test.mail.eo.outlook.com",)
    assert "legacy Microsoft hosts" in mx.detail
    assert not audit.mx_on_microsoft365


async def test_null_mx_gets_a_message_that_makes_sense(bind: BindServer) -> None:
    audit = await audit_domain("nullmx.test", bind.dns_config())
    mx = mx_of(audit)
    assert mx.verdict is Verdict.WRONG
    assert mx.found == ("0 .",)
    assert mx.fixes == (
        "Replace the null MX (0 .) with MX 0 <host from the Microsoft 365 admin center, "
        "Settings › Domains; usually nullmx-test.mail.protection.outlook.com>",
    )
    assert "receives no mail" in mx.detail
    assert "Delete MX 0 ." not in mx.fix
    assert not audit.mx_on_microsoft365


async def test_teams_only_tenant_passes_without_skype_records(bind: BindServer) -> None:
    audit = await audit_domain("teamsonly.test", bind.dns_config())
    assert not audit.needs_change and not audit.must_change
    for skype in ("sip", "lyncdiscover", "sip-tls"):
        record = audit.record(skype)
        assert record is not None and not record.required and record.verdict is Verdict.MISSING
        assert "a Teams-only tenant can delete them" in record.detail
    federation = audit.record("sip-federation")
    assert federation is not None and federation.required and federation.verdict is Verdict.OK


async def test_a_second_srv_is_a_conflict_naming_the_extra_record(bind: BindServer) -> None:
    audit = await audit_domain("srv2.test", bind.dns_config())
    federation = audit.record("sip-federation")
    assert federation is not None and federation.verdict is Verdict.CONFLICT
    assert federation.fixes == (
        "Delete _sipfederationtls._tcp.srv2.test SRV 100 1 5061 lyncedge.srv2.test",
    )
    assert audit.must_change


async def test_intune_enrollment_accepts_the_s_host(bind: BindServer) -> None:
    audit = await audit_domain("intune-s.test", bind.dns_config())
    enrollment = audit.record("mdm-enrollment")
    assert enrollment is not None and enrollment.verdict is Verdict.OK
    assert enrollment.found == ("enterpriseenrollment-s.manage.microsoft.com",)
    assert not audit.needs_change
