"""The terminal table of ``transition-bot check``, from hand-built audits (no DNS)."""

from __future__ import annotations

from bot.dnscheck.model import Audit, RecordResult, Verdict
from bot.dnscheck.report import render_text

LONG_FIX = (
    'Replace the 2 SPF records with one: TXT "v=spf1 mx include:spf.protection.outlook.com '
    'include:_spf.example.net include:mailgun.org ~all"'
)


def spf_conflict() -> Audit:
    record = RecordResult(
        id="spf",
        verdict=Verdict.CONFLICT,
        name="contoso.com",
        type="TXT",
        expected="v=spf1 include:spf.protection.outlook.com -all",
        found=("v=spf1 mx ~all", "v=spf1 include:spf.protection.outlook.com -all"),
        fix=LONG_FIX,
        fixes=(LONG_FIX,),
        detail="2 SPF records: receivers reject that as an SPF error (permerror), "
        "so mail from this domain may be refused or filed as spam",
    )
    return Audit(domain="contoso.com", display_domain="contoso.com", records=(record,))


def test_a_wrapped_fix_reads_as_one_fix() -> None:
    lines = render_text(spf_conflict(), width=60).splitlines()
    fix_lines = [n for n, line in enumerate(lines) if line.startswith("    fix: ")]
    why_lines = [n for n, line in enumerate(lines) if line.startswith("    why: ")]
    assert len(fix_lines) == 1 and len(why_lines) == 1  # one fix, one why, however wrapped
    first = fix_lines[0]
    continued = lines[first + 1 : why_lines[0]]
    assert continued, "the fix is long enough to wrap at 60 columns"
    assert all(line.startswith(" " * len("    fix: ")) for line in continued)
    # nothing of the fix is lost in the wrapping
    joined = " ".join(line.strip() for line in [lines[first][len("    fix: ") :], *continued])
    assert joined == LONG_FIX


def test_cautions_are_printed_as_warnings() -> None:
    audit = Audit(
        domain="contoso.com",
        display_domain="contoso.com",
        mx_blockers=("the MTA-STS policy of contoso.com is in enforce mode",),
        warnings=("DMARC says p=reject while DKIM is not set up",),
    )
    out = render_text(audit)
    assert (
        "WARNING: Do not move MX yet: the MTA-STS policy of contoso.com is in enforce mode." in out
    )
    assert "WARNING: DMARC says p=reject while DKIM is not set up" in out
