"""DKIM, DMARC, MTA-STS and TLS-RPT through the real engine: BIND zones in tests/zones, and the
MTA-STS policies from a local HTTPS host (tests/support/fake_mta_sts.py, trustme)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.dnscheck.audit import audit_domain
from bot.dnscheck.model import Audit, RecordResult, Verdict
from bot.dnscheck.report import to_json
from tests.support.bind import BindServer
from tests.support.fake_mta_sts import FakeMtaSts


def record(audit: Audit, record_id: str) -> RecordResult:
    found = audit.record(record_id)
    assert found is not None, f"{record_id} not in {[r.id for r in audit.records]}"
    return found


async def test_dkim_dmarc_and_tls_rpt_present_in_the_newer_forms(bind: BindServer) -> None:
    audit = await audit_domain("dkimnew.test", bind.dns_config())
    dkim = record(audit, "dkim")
    assert dkim.verdict is Verdict.OK and not dkim.required
    assert dkim.name == "selector1._domainkey.dkimnew.test, selector2._domainkey.dkimnew.test"
    assert dkim.found == (
        "selector1-dkimnew-test._domainkey.contoso.n-v1.dkim.mail.microsoft",
        "selector2-dkimnew-test._domainkey.contoso.n-v1.dkim.mail.microsoft",
    )
    dmarc = record(audit, "dmarc")
    assert dmarc.verdict is Verdict.OK and "p=reject" in dmarc.detail
    tls = record(audit, "tls-rpt")
    assert (
        tls.verdict is Verdict.OK
        and tls.detail == "TLS reports go to mailto:tls-reports@dkimnew.test"
    )
    sts = record(audit, "mta-sts")
    assert sts.verdict is Verdict.OK and not sts.required and sts.found == ()
    assert audit.warnings == () and audit.mx_blockers == ()
    assert [r.id for r in audit.records].count("dkim") == 1


async def test_dkim_and_dmarc_missing_are_advice_not_failures(bind: BindServer) -> None:
    audit = await audit_domain("bpos.test", bind.dns_config())
    dkim, dmarc = record(audit, "dkim"), record(audit, "dmarc")
    assert (dkim.verdict, dmarc.verdict) == (Verdict.MISSING, Verdict.MISSING)
    assert not dkim.required and not dmarc.required
    assert dkim.fixes[0].startswith(
        "Add selector1._domainkey.bpos.test CNAME selector1-bpos-test._domainkey."
        "<initial domain>.onmicrosoft.com"
    )
    assert dkim.fixes[1].startswith("Add selector2._domainkey.bpos.test CNAME selector2-")
    assert "DMARC" in dkim.detail and "align" in dkim.detail  # why to add it
    assert dmarc.fixes == (
        'Add _dmarc.bpos.test TXT "v=DMARC1; p=none; rua=mailto:dmarc-reports@bpos.test" '
        "(the rua address receives the daily reports: use a mailbox that exists)",
    )
    assert audit.record("tls-rpt") is None  # optional, shown only when present
    # nothing here changes the exit code: the required records alone decide it
    assert {r.id for r in audit.records if r.required}.isdisjoint({"dkim", "dmarc", "tls-rpt"})


async def test_dmarc_reject_without_dkim_warns_about_the_move(bind: BindServer) -> None:
    audit = await audit_domain("nodkim.test", bind.dns_config())
    dmarc = record(audit, "dmarc")
    assert dmarc.verdict is Verdict.OK
    assert dmarc.found == ("v=DMARC1; p=reject; sp=quarantine; rua=mailto:dmarc@nodkim.test",)
    assert dmarc.detail == "policy p=reject, sp=quarantine"
    dkim = record(audit, "dkim")
    assert dkim.verdict is Verdict.CONFLICT  # a key where Microsoft's CNAME must go
    assert dkim.fixes[0] == (
        "Delete selector1._domainkey.nodkim.test TXT v=DKIM1; k=rsa; "
        "p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQC, once no mail leaves through the old "
        "provider (it may still sign with this selector)"
    )
    (warning,) = audit.warnings
    assert "p=reject" in warning and "may be rejected after the move" in warning
    assert audit.cautions == (warning,)
    assert to_json(audit)["warnings"] == [warning]


async def test_two_dmarc_records_conflict_and_a_foreign_selector_is_wrong(
    bind: BindServer,
) -> None:
    audit = await audit_domain("twodmarc.test", bind.dns_config())
    dmarc = record(audit, "dmarc")
    assert dmarc.verdict is Verdict.CONFLICT
    assert dmarc.found == ("v=DMARC1; p=none", "v=DMARC1; p=quarantine")
    assert "Keep one of the 2 DMARC records" in dmarc.fix
    dkim = record(audit, "dkim")
    assert dkim.verdict is Verdict.WRONG  # the worse of wrong (selector1) and missing (selector2)
    assert "points to selector1.dkim.oldprovider.test" in dkim.detail
    assert dkim.fixes[0].startswith("Change selector1._domainkey.twodmarc.test CNAME to ")
    assert "old provider" in dkim.fixes[0]  # never cut the old provider's signatures blindly
    assert dkim.fixes[1].startswith("Add selector2._domainkey.twodmarc.test CNAME")
    assert audit.warnings == ()  # p=quarantine is in one of two ignored records: no policy


async def test_enforce_policy_without_microsoft_blocks_the_mx_move(
    bind: BindServer, fake_mta_sts: FakeMtaSts
) -> None:
    audit = await audit_domain("enforce.test", fake_mta_sts.config(bind.dns_config()))
    sts = record(audit, "mta-sts")
    assert sts.verdict is Verdict.WRONG and sts.required
    assert sts.found == ("v=STSv1; id=20261201",)
    assert sts.fixes == (
        "Add the line `mx: *.mail.protection.outlook.com` to the policy at "
        "https://mta-sts.enforce.test/.well-known/mta-sts.txt (keep the other mx lines until "
        "MX has moved), then change the id in _mta-sts.enforce.test TXT so senders fetch it "
        "again",
    )
    (blocker,) = audit.mx_blockers
    assert "enforce mode" in blocker and "mail.enforce.test" in blocker
    assert "enforce-test.mail.protection.outlook.com" in blocker
    assert audit.must_change  # a published policy is required: the exit code says change
    assert to_json(audit)["mx_blockers"] == [blocker]
    assert record(audit, "tls-rpt").verdict is Verdict.OK
    assert fake_mta_sts.requests == ["mta-sts.enforce.test"]
    mx = record(audit, "mx")  # its fix is the move: it says to wait
    assert mx.detail.endswith(
        "not yet: the MTA-STS policy must list Microsoft 365's MX first (see mta-sts)"
    )


async def test_testing_policy_without_microsoft_is_not_ok_but_blocks_nothing(
    bind: BindServer, fake_mta_sts: FakeMtaSts
) -> None:
    audit = await audit_domain("testing.test", fake_mta_sts.config(bind.dns_config()))
    sts = record(audit, "mta-sts")
    assert sts.verdict is Verdict.WRONG
    assert "mode testing" in sts.detail and "report failures" in sts.detail
    assert "mx: *.mail.protection.outlook.com" in sts.fix
    assert audit.mx_blockers == ()


async def test_enforce_policy_listing_microsoft_is_ok(
    bind: BindServer, fake_mta_sts: FakeMtaSts
) -> None:
    audit = await audit_domain("stsok.test", fake_mta_sts.config(bind.dns_config()))
    sts = record(audit, "mta-sts")
    assert sts.verdict is Verdict.OK and sts.required
    assert sts.detail == (
        "mode enforce; its mx lines cover stsok-test.mail.protection.outlook.com (if that line "
        "is new: the id in the TXT must have changed too); Microsoft 365's MX is not known yet, "
        "so the usual host was checked: if the admin center shows an mx.microsoft host, the "
        "policy must list that host exactly"
    )
    assert audit.mx_blockers == ()


@pytest.mark.parametrize(
    ("domain", "reason"),
    [
        ("badcert.test", "the certificate of mta-sts.badcert.test is not trusted"),
        ("redirect.test", "redirects to https://mta-sts.stsok.test/.well-known/mta-sts.txt"),
        ("oversized.test", "the policy is larger than 64 KB"),
        ("nohost.test", "mta-sts.nohost.test has no address"),
    ],
)
async def test_a_policy_that_cannot_be_fetched_is_unknown_with_the_reason(
    bind: BindServer, fake_mta_sts: FakeMtaSts, domain: str, reason: str
) -> None:
    audit = await audit_domain(domain, fake_mta_sts.config(bind.dns_config()))
    sts = record(audit, "mta-sts")
    assert sts.verdict is Verdict.UNKNOWN and sts.required
    assert sts.detail.startswith(f"could not read https://mta-sts.{domain}/.well-known/mta-sts.txt")
    assert reason in sts.detail
    assert audit.mx_blockers == ()  # not known to block: the gate does not guess


async def test_the_policy_host_is_trusted_only_through_the_ca_bundle(
    bind: BindServer, fake_mta_sts: FakeMtaSts
) -> None:
    """Without TRANSITION_CA_BUNDLE the test CA is unknown: verification is never switched off."""
    config = replace(fake_mta_sts.config(bind.dns_config()), ca_bundle=None)
    audit = await audit_domain("stsok.test", config)
    sts = record(audit, "mta-sts")
    assert sts.verdict is Verdict.UNKNOWN
    assert "the certificate of mta-sts.stsok.test is not trusted" in sts.detail


async def test_a_policy_is_fetched_only_when_mta_sts_is_published(
    bind: BindServer, fake_mta_sts: FakeMtaSts
) -> None:
    audit = await audit_domain("moved.test", fake_mta_sts.config(bind.dns_config()))
    assert record(audit, "mta-sts").verdict is Verdict.OK
    assert record(audit, "mta-sts").detail == "no MTA-STS policy published"
    assert fake_mta_sts.requests == []


async def test_dmarc_and_mta_sts_through_cnames_are_what_senders_see(
    bind: BindServer, fake_mta_sts: FakeMtaSts
) -> None:
    audit = await audit_domain("alias.test", fake_mta_sts.config(bind.dns_config()))
    dmarc = record(audit, "dmarc")
    assert dmarc.verdict is Verdict.OK
    assert dmarc.found == ("v=DMARC1; p=reject; rua=mailto:dmarc@alias.test",)
    assert "through the CNAME to dmarc.hosted.alias.test" in dmarc.detail
    sts = record(audit, "mta-sts")
    assert sts.verdict is Verdict.WRONG and sts.found == ("v=STSv1; id=20261201",)
    assert len(audit.mx_blockers) == 1 and "alias.test" in audit.mx_blockers[0]
