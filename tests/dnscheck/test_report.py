"""The terminal table of ``transition-bot check``, from hand-built audits (no DNS)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.dnscheck.model import Audit, RecordResult, Verdict
from bot.dnscheck.report import render_text, wrap

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


# host names as the audit shows them: labels of letters, digits and hyphens
LABEL = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=24)
HOST = st.lists(LABEL, min_size=2, max_size=6).map(".".join)
WORDS = st.lists(st.one_of(HOST, st.sampled_from(["MX", "0", "10", "Delete", "or", "usually"])))


@settings(max_examples=300, deadline=None)
@given(words=WORDS, width=st.integers(min_value=25, max_value=120))
def test_wrapping_never_cuts_a_host_inside_a_label(words: list[str], width: int) -> None:
    text = " ".join(words)
    lines = wrap(text, width)
    assert all(len(line) <= width for line in lines)
    # No word here ends with a dot, so a line ending with one was broken inside a host name,
    # after a dot; any other break was at a space. Joining back that way gives the text again
    # only if no label was ever cut.
    rebuilt = lines[0]
    for line in lines[1:]:
        rebuilt += ("" if rebuilt.endswith(".") else " ") + line
    assert rebuilt == text


def test_a_long_host_breaks_after_a_dot() -> None:
    assert wrap("Add MX 0 contosouk-com01b.mail.protection.outlook.com", 31) == [
        "Add MX 0 contosouk-com01b.mail.",
        "protection.outlook.com",
    ]
    # a host that fits on a line of its own moves there whole
    assert wrap("Delete MX 20 backup.example.net", 20) == ["Delete MX 20", "backup.example.net"]
    assert wrap("autodiscover.outlook.com", 13) == ["autodiscover.", "outlook.com"]


def mx_beside_backup() -> Audit:
    record = RecordResult(
        id="mx",
        verdict=Verdict.WRONG,
        name="contoso-uk.com",
        type="MX",
        expected="the MX value shown in the Microsoft 365 admin center (Settings › Domains), "
        "usually contoso-uk-com.mail.protection.outlook.com",
        found=("0 contosouk-com01b.mail.protection.outlook.com", "20 backup.example.net"),
        fix="Delete MX 20 backup.example.net",
        fixes=("Delete MX 20 backup.example.net",),
        required=True,
        ttl=3600,
    )
    optional = RecordResult(
        id="mdm-registration",
        verdict=Verdict.OK,
        name="enterpriseregistration.contoso-uk.com",
        type="CNAME",
        expected="enterpriseregistration.windows.net",
        found=("enterpriseregistration.windows.net",),
        fix="",
        required=False,
    )
    return Audit(
        domain="contoso-uk.com", display_domain="contoso-uk.com", records=(record, optional)
    )


def test_wide_terminals_get_found_and_expected_side_by_side() -> None:
    lines = render_text(mx_beside_backup(), width=140).splitlines()
    assert all(len(line) <= 140 for line in lines)
    header = next(line for line in lines if line.startswith("RECORD"))
    assert "FOUND" in header and "EXPECTED" in header
    row = next(line for line in lines if line.startswith("mx "))
    assert "0 contosouk-com01b.mail.protection.outlook.com" in row and "wrong" in row


def test_narrow_terminals_stack_found_and_expected_without_cutting_names() -> None:
    lines = render_text(mx_beside_backup(), width=60).splitlines()
    assert all(len(line) <= 60 for line in lines)
    assert "FOUND" not in next(line for line in lines if line.startswith("RECORD"))
    assert "    found: 0 contosouk-com01b.mail.protection.outlook.com" in lines
    assert "    fix: Delete MX 20 backup.example.net" in lines
    expected = [n for n, line in enumerate(lines) if line.startswith("    expected: ")]
    assert len(expected) == 1  # the ok record shows what it found, not what is expected
    assert "contoso-uk-com.mail.protection.outlook.com" in lines[expected[0] + 2]  # whole
