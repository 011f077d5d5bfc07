"""SPF on a real BIND (tests/zones/spf-*.zone): the audit's verdicts and fixes, and checkdmarc
as a second opinion on the same zones (lookup counts and error verdicts)."""

from __future__ import annotations

import asyncio
from typing import Any

import dns.nameserver
import pytest
from checkdmarc.spf import check_spf

from bot.dnscheck import spf
from bot.dnscheck.audit import audit_domain, make_resolver, spf_lookup
from bot.dnscheck.model import RecordResult, Verdict
from tests.support.bind import BindServer
from tests.support.bind_fixtures import ZONES_DIR

MS = "spf.protection.outlook.com"
# a timeout would read as another verdict (unknown, a failed include): wait long on a busy box
LOADED = 10.0


async def spf_result(bind: BindServer, domain: str) -> RecordResult:
    audit = await audit_domain(domain, bind.dns_config(timeout=LOADED))
    result = audit.record("spf")
    assert result is not None and audit.error is None, audit.error_message
    return result


async def test_microsoft_through_the_domains_own_include_is_ok(bind: BindServer) -> None:
    audit = await audit_domain("spf-indirect.test", bind.dns_config(timeout=LOADED))
    assert not audit.needs_change, [(r.id, r.verdict.value, r.detail) for r in audit.records]
    result = audit.record("spf")
    assert result is not None and result.fix == ""
    assert result.detail == (
        "2 DNS lookups (limit 10); Microsoft 365 authorised through _spf.spf-indirect.test"
    )


@pytest.mark.parametrize(
    ("name", "verdict", "new", "why"),
    [
        ("minus", "wrong", f"v=spf1 include:{MS} ~all", f"-include:{MS} fails Microsoft 365's"),
        ("soft", "wrong", f"v=spf1 include:{MS} ~all", f"~include:{MS} softfails"),
        ("neutral", "wrong", f"v=spf1 include:{MS} ~all", f"?include:{MS} is neutral for"),
        (
            "through",
            "wrong",
            f"v=spf1 ~include:_spf.spf-qualifiers.test include:{MS} -all",
            "~include:_spf.spf-qualifiers.test softfails Microsoft 365's servers",
        ),
        ("plusall", "wrong", f"v=spf1 include:{MS} ~all", "+all: lets anyone send as"),
        ("neutralall", "wrong", f"v=spf1 include:{MS} ~all", "?all: lets anyone send as"),
        ("noall", "wrong", f"v=spf1 include:{MS} ~all", "no all: gives neutral"),
        ("late", "wrong", f"v=spf1 include:{MS} -all", "comes after all: receivers never reach"),
        ("softall", "ok", "", "once every sender is listed, -all lets receivers reject it"),
    ],
)
async def test_qualifiers(bind: BindServer, name: str, verdict: str, new: str, why: str) -> None:
    result = await spf_result(bind, f"{name}.spf-qualifiers.test")
    assert result.verdict.value == verdict, result.detail
    assert why in result.detail
    if new:
        assert result.fix == f'Change TXT "{result.found[0]}" to "{new}"'
    else:
        assert result.fix == ""


async def test_a_shared_include_reached_twice_counts_twice(bind: BindServer) -> None:
    result = await spf_result(bind, "spf-shared.test")
    assert result.verdict is Verdict.WRONG
    assert result.fix == (
        "Cut the SPF record to 10 DNS lookups or fewer (it needs 11): flatten an include into "
        "the ip4:/ip6: ranges it lists, or remove the include of a sender the domain no longer "
        "uses (include:_spf.spf-shared.test costs 6, include:mail.spf-shared.test costs 5)"
    )
    assert "permerror" in result.detail
    once = await spf_result(bind, "once.spf-shared.test")
    assert once.verdict is Verdict.OK and once.detail.startswith("6 DNS lookups (limit 10)")


@pytest.mark.parametrize(
    ("domain", "fix", "why"),
    [
        (
            "spf-permerror.test",
            f'Change TXT "v=spf1 include:{MS} include:gone.spf-permerror.test -all" to '
            f'"v=spf1 include:{MS} -all"',
            "gone.spf-permerror.test has no SPF record",
        ),
        (
            "two.spf-permerror.test",
            f'Change TXT "v=spf1 include:{MS} include:double.spf-permerror.test -all" to '
            f'"v=spf1 include:{MS} -all"',
            "double.spf-permerror.test has 2 SPF records",
        ),
        (
            "plain.spf-permerror.test",
            f'Change TXT "v=spf1 include:{MS} include:text.spf-permerror.test -all" to '
            f'"v=spf1 include:{MS} -all"',
            "text.spf-permerror.test has no SPF record",
        ),
        (
            "syntax.spf-permerror.test",
            "Correct the SPF record: ip4:192.0.2.300: not an IPv4 network",
            "ip4:192.0.2.300: not an IPv4 network",
        ),
        (
            "junk.spf-permerror.test",
            "Correct the SPF record: ip4:192.0.2.300: not an IPv4 network",
            "ip4:192.0.2.300: not an IPv4 network",
        ),
        (
            "spf-void.test",
            "Correct the SPF record: 3 lookups find nothing (a:none1.spf-void.test, "
            "mx:none2.spf-void.test, a:none3.spf-void.test; limit 2, RFC 7208 section 4.6.4)",
            "3 lookups find nothing",
        ),
        (
            "spf-loop.test",
            "Correct the SPF record: include loop: "
            "spf-loop.test → a.spf-loop.test → b.spf-loop.test → a.spf-loop.test",
            "include loop",
        ),
    ],
)
async def test_permerrors_fail_the_record(
    bind: BindServer, domain: str, fix: str, why: str
) -> None:
    result = await spf_result(bind, domain)
    assert result.verdict is Verdict.WRONG
    assert result.detail.startswith("receivers treat this SPF record as an error (permerror)")
    assert why in result.detail
    assert result.fix == fix


async def test_two_void_lookups_are_allowed(bind: BindServer) -> None:
    result = await spf_result(bind, "two.spf-void.test")
    assert result.verdict is Verdict.OK
    assert result.detail == (
        "3 DNS lookups (limit 10); 2 find nothing (a:none1.spf-void.test, "
        "mx:none2.spf-void.test; limit 2)"
    )


async def test_redirects(bind: BindServer) -> None:
    apex = await spf_result(bind, "spf-redirect.test")
    assert apex.verdict is Verdict.OK and apex.fix == ""
    assert apex.detail.endswith("Microsoft 365 authorised through _spf.spf-redirect.test")
    merge = await spf_result(bind, "merge.spf-redirect.test")
    assert merge.verdict is Verdict.CONFLICT
    assert merge.fix == (
        'Replace the 2 SPF records with one: TXT "v=spf1 mx include:_spf.spf-redirect.test ~all"'
    )  # _spf.spf-redirect.test includes Microsoft's: no second include of it
    assert "beside an all a redirect is ignored (RFC 7208 section 6.1)" in merge.detail
    twice = await spf_result(bind, "twice.spf-redirect.test")
    assert twice.verdict is Verdict.CONFLICT
    assert twice.fix.startswith(
        "Replace the 2 SPF records with one by hand: they redirect to _spf.spf-redirect.test "
        "and other.spf-redirect.test, and one record can hold only one redirect="
    )


async def test_a_merged_record_over_255_characters_is_several_strings(bind: BindServer) -> None:
    result = await spf_result(bind, "long.spf-redirect.test")
    assert result.verdict is Verdict.CONFLICT
    txt = result.fix.removeprefix("Replace the 2 SPF records with one: TXT ")
    strings = txt[1:-1].split('" "')
    assert len(strings) == 2 and all(len(s) <= 255 for s in strings)
    merged = "".join(strings)
    assert merged.startswith("v=spf1 ip4:198.51.100.11 ") and merged.endswith(f"include:{MS} -all")
    assert len(merged) > 255 and all(f"ip4:203.0.113.{n} " in merged for n in range(11, 21))


async def test_the_walk_costs_one_round_trip_per_level(bind: BindServer) -> None:
    """The audit's stage 1 brings the record and Microsoft's include; the walk's levels then
    run beside stages 2 and 3, so a walk of up to two more levels keeps the audit at three
    sequential round trips."""
    lookup = spf_lookup(make_resolver(bind.dns_config(timeout=LOADED)))
    direct = await spf.check(f"v=spf1 include:{MS} -all", "x.test", lookup)
    assert direct.rounds == 1
    known = {(MS, "TXT"): await lookup(MS, "TXT")}
    prefetched = await spf.check(f"v=spf1 include:{MS} -all", "x.test", lookup, known=known)
    assert prefetched.rounds == 0 and prefetched.authorises(MS)
    indirect = await spf.check("v=spf1 include:_spf.spf-indirect.test -all", "x.test", lookup)
    assert indirect.rounds == 2 and indirect.authorises(MS)
    record = "v=spf1 include:_spf.spf-indirect.test -all"
    assert (await spf.check(record, "x.test", lookup, known=known)).rounds == 1
    shared = await spf.check("v=spf1 include:spf-shared.test -all", "x.test", lookup)
    # _spf and mail, then shared and Microsoft's: over 10, so the h1-h3 addresses are not asked
    assert shared.rounds == 3 and shared.lookups == 12 and shared.limit_exceeded


# --------------------------------------------------------------------- checkdmarc agrees

# name -> (what our permerror says, what checkdmarc's error says); None: both find it valid
AGREED: dict[str, tuple[str, str] | None] = {
    "spf-indirect.test": None,
    "softall.spf-qualifiers.test": None,
    "minus.spf-qualifiers.test": None,
    "through.spf-qualifiers.test": None,
    "late.spf-qualifiers.test": None,
    "once.spf-shared.test": None,
    "two.spf-void.test": None,
    "spf-redirect.test": None,
    "premx.test": None,
    "spf-shared.test": ("needs 11 DNS lookups", "requires 11/10 maximum DNS lookups"),
    "spf-permerror.test": ("has no SPF record", "has no SPF record"),
    "plain.spf-permerror.test": ("has no SPF record", "has no SPF record"),
    # checkdmarc asks the target itself and reports "multiple records" of it
    "two.spf-permerror.test": ("has 2 SPF records", "multiple SPF TXT records"),
    "syntax.spf-permerror.test": ("not an IPv4 network", "is not a valid IPv4 value"),
    "spf-void.test": ("3 lookups find nothing", "3/2 maximum void DNS lookups"),
    "spf-loop.test": ("include loop", "Include loop"),
    "merge.spf-redirect.test": ("2 SPF records", "multiple SPF TXT records"),
    "twice.spf-redirect.test": ("2 SPF records", "multiple SPF TXT records"),
}

# Where we differ on purpose: name -> (ours, checkdmarc's, why)
DIFFERENT: dict[str, tuple[str, str | None, str]] = {
    # RFC 7208 section 4.6: a syntax error anywhere fails the record, and receivers that parse
    # the whole record (pyspf, libspf2) do; checkdmarc ignores what follows all, with a warning.
    # Reporting it is the side that loses no mail.
    "junk.spf-permerror.test": ("not an IPv4 network", None, "section 4.6"),
    # Both find a permerror. A receiver stops at whichever limit the evaluation order hits
    # first (checkdmarc: the third void lookup); we stop asking once the lookup count is over
    # 10, to keep the audit's round trips few, so ours names the lookup limit.
    "lookups.test": ("needs at least 12 DNS lookups", "3/2 maximum void DNS lookups", "order"),
}


async def ours(bind: BindServer, domain: str) -> spf.Check | int:
    """Our walk of the domain's SPF record, or how many SPF records it has when not one."""
    lookup = spf_lookup(make_resolver(bind.dns_config(timeout=LOADED)))
    records = spf.spf_records((await lookup(domain, "TXT")).values)
    if len(records) != 1:
        return len(records)
    return await spf.check(records[0], domain, lookup)


async def theirs(bind: BindServer, domain: str) -> dict[str, Any]:
    server = dns.nameserver.Do53Nameserver("127.0.0.1", bind.port)
    return await asyncio.to_thread(
        check_spf, domain, nameservers=[server], timeout=LOADED, retries=2
    )


def our_errors(check: spf.Check | int) -> str:
    if isinstance(check, int):
        return f"{check} SPF records"
    return "; ".join(check.permerrors)


@pytest.mark.parametrize("domain", sorted(AGREED))
async def test_checkdmarc_agrees(bind: BindServer, domain: str) -> None:
    check, reference = await ours(bind, domain), await theirs(bind, domain)
    expected = AGREED[domain]
    if expected is None:
        assert reference["valid"], reference.get("error")
        assert isinstance(check, spf.Check) and check.permerrors == ()
        assert check.lookups == reference["dns_lookups"]
        assert check.void_lookups == reference["void_dns_lookups"]
        return
    ours_says, theirs_says = expected
    assert not reference["valid"] and theirs_says in reference["error"]
    assert ours_says in our_errors(check)


@pytest.mark.parametrize("domain", sorted(DIFFERENT))
async def test_where_we_differ_from_checkdmarc(bind: BindServer, domain: str) -> None:
    check, reference = await ours(bind, domain), await theirs(bind, domain)
    ours_says, theirs_says, _why = DIFFERENT[domain]
    assert ours_says in our_errors(check)
    if theirs_says is None:
        assert reference["valid"]
    else:
        assert not reference["valid"] and theirs_says in reference["error"]


EVERY_ZONE = sorted(
    {p.name.removesuffix(".zone") for p in ZONES_DIR.glob("*.zone")} - DIFFERENT.keys()
)


@pytest.mark.parametrize("domain", EVERY_ZONE)
async def test_checkdmarc_agrees_on_every_zone(bind: BindServer, domain: str) -> None:
    """Every zone of every helper, as a net: the same verdict (and, when valid, the same
    counts), apart from the differences above."""
    check, reference = await ours(bind, domain), await theirs(bind, domain)
    if isinstance(check, int):  # none or several records: no record to walk, for both
        assert not reference["valid"], domain
        return
    assert reference["valid"] == (check.permerrors == ()), (domain, reference.get("error"))
    if reference["valid"]:
        assert (check.lookups, check.void_lookups) == (
            reference["dns_lookups"],
            reference["void_dns_lookups"],
        )
