"""The check report's blocks, from hand-built audits (no DNS, no Slack)."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from slack_sdk.models.blocks import Block

from bot.blocks.check import check_report, error_text, summary_line
from bot.blocks.help import usage_text
from bot.blocks.ids import ActionId
from bot.dnscheck.model import Audit, AuditErrorKind, RecordResult, Verdict
from tests.support.fake_slack import validate_blocks


def record(rid: str, verdict: Verdict, **kw: Any) -> RecordResult:
    defaults: dict[str, Any] = {
        "name": "contoso.com",
        "type": "MX",
        "expected": "0 contoso-com.mail.protection.outlook.com",
        "found": (),
        "fix": "",
    }
    return RecordResult(id=rid, verdict=verdict, **{**defaults, **kw})


def as_dicts(blocks: list[Block]) -> list[dict[str, Any]]:
    return [b.to_dict() for b in blocks]


def texts(blocks: list[dict[str, Any]]) -> str:
    return str(blocks)


BPOS = Audit(
    domain="contoso.com",
    display_domain="contoso.com",
    records=(
        record(
            "mx",
            Verdict.LEGACY,
            found=("10 mail.global.frontbridge.com",),
            fix="Delete MX 10 mail.global.frontbridge.com",
            ttl=3600,
        ),
        record("autodiscover", Verdict.OK, type="CNAME", found=("autodiscover.outlook.com",)),
        record("sip", Verdict.MISSING, type="CNAME", fix="Add CNAME sip sipdir.online.lync.com"),
        record("spf", Verdict.WRONG, type="TXT", found=("v=spf1 <a> & b",), fix="Change SPF"),
    ),
    servers=("ns1.contoso.com (127.0.0.1)",),
)


def test_summary_counts_each_verdict_in_a_fixed_order() -> None:
    assert summary_line(BPOS) == "1 ok · 1 wrong · 1 legacy · 1 missing"


def test_report_has_header_summary_fixes_and_a_recheck_button() -> None:
    blocks = as_dicts(check_report(BPOS))
    validate_blocks(blocks)
    assert blocks[0]["type"] == "header"
    assert blocks[0]["text"]["text"] == "DNS check: contoso.com"
    assert "1 ok · 1 wrong · 1 legacy · 1 missing" in blocks[1]["text"]["text"]
    assert "Delete MX 10 mail.global.frontbridge.com" in texts(blocks)
    assert "Add CNAME sip sipdir.online.lync.com" in texts(blocks)
    button = blocks[-1]["elements"][0]
    assert button["action_id"] == ActionId.RECHECK
    assert button["value"] == "contoso.com"
    assert button["text"]["text"] == "Re-check"
    assert "MX already points" not in texts(blocks) and "warning" not in texts(blocks)


def test_dns_values_are_escaped_for_mrkdwn() -> None:
    blocks = texts(as_dicts(check_report(BPOS)))
    assert "&lt;a&gt; &amp; b" in blocks
    assert "<a>" not in blocks


def test_mx_on_microsoft365_gets_the_bold_warning() -> None:
    moved = Audit(
        domain="fabrikam.com",
        display_domain="fabrikam.com",
        records=(record("mx", Verdict.OK),),
        mx_on_microsoft365=True,
        mx_servers_on_microsoft365=("ns1.fabrikam.com (192.0.2.1)",),
    )
    text = as_dicts(check_report(moved))[2]["text"]["text"]
    assert text.startswith("*:warning: MX already points to Microsoft 365 —") and text.endswith("*")
    assert "never move MX before the mailbox data is verified" in text


def test_mx_moved_on_some_servers_names_them_with_the_same_warning() -> None:
    split = Audit(
        domain="split.test",
        display_domain="split.test",
        records=(record("mx", Verdict.INCONSISTENT),),
        servers=("ns1.split.test (127.0.0.1)", "ns2.split.test (127.0.0.2)"),
        mx_servers_on_microsoft365=("ns1.split.test (127.0.0.1)",),
    )
    text = as_dicts(check_report(split))[2]["text"]["text"]
    assert text.startswith("*:warning: MX points to Microsoft 365 on ns1.split.test only —")
    assert "never move MX before the mailbox data is verified" in text
    assert "already" not in text


def test_inconsistent_record_names_each_server() -> None:
    audit = Audit(
        domain="d.test",
        display_domain="d.test",
        records=(
            record(
                "mx",
                Verdict.INCONSISTENT,
                servers={"ns1.d.test (127.0.0.1)": ("0 a.",), "ns2.d.test (127.0.0.2)": ("0 b.",)},
            ),
        ),
    )
    text = texts(as_dicts(check_report(audit)))
    assert "ns1.d.test (127.0.0.1)" in text and "ns2.d.test (127.0.0.2)" in text


@given(
    count=st.integers(min_value=0, max_value=120),
    size=st.integers(min_value=0, max_value=4000),
)
def test_any_audit_fits_block_kit_limits(count: int, size: int) -> None:
    long = "x" * size
    audit = Audit(
        domain="big.test",
        display_domain="big.test",
        records=tuple(
            record(f"r{i}", Verdict.WRONG, found=(long,), expected=long, fix=long)
            for i in range(count)
        ),
        servers=tuple(f"ns{i}.big.test" for i in range(20)),
    )
    blocks = as_dicts(check_report(audit))
    validate_blocks(blocks)  # 50 blocks, 3000 characters per section, button limits
    assert blocks[-1]["elements"][0]["action_id"] == ActionId.RECHECK


def test_error_texts() -> None:
    nx = Audit(domain="nx.test", display_domain="nx.test", error=AuditErrorKind.NXDOMAIN)
    assert error_text(nx).startswith("nx.test does not exist in DNS")
    down = Audit(domain="d.test", display_domain="d.test", error=AuditErrorKind.UNREACHABLE)
    assert "could not reach" in error_text(down).lower()


def test_usage_names_the_unknown_word() -> None:
    assert "I don't know `frobnicate`" in usage_text("frobnicate")
    assert "/transition check contoso.com" in usage_text()


def test_mx_blockers_and_warnings_are_shown_above_the_records() -> None:
    blocker = "the MTA-STS policy of contoso.com is in enforce mode and leaves Microsoft 365 out"
    warning = "DMARC of contoso.com says p=reject while DKIM is not set up"
    audit = Audit(
        domain="contoso.com",
        display_domain="contoso.com",
        records=(record("mta-sts", Verdict.WRONG), record("dmarc", Verdict.OK)),
        mx_blockers=(blocker,),
        warnings=(warning,),
    )
    blocks = as_dicts(check_report(audit))
    validate_blocks(blocks)
    shown = texts(blocks)
    assert f"Do not move MX yet: {blocker}." in shown and warning in shown
    assert shown.index(blocker) < shown.index("*mta-sts*")  # above the records
