"""SPF by RFC 7208 without a network: records and DNS answers as dicts, verdict data out."""

from __future__ import annotations

from collections.abc import Mapping

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.dnscheck import spf
from bot.dnscheck.spf import Answer

MS = "spf.protection.outlook.com"
MS_RECORD = "v=spf1 ip4:40.92.0.0/15 ip6:2a01:111:f400::/48 -all"
D = "contoso.com"


def dns(
    records: Mapping[str, str | list[str]], **other: tuple[str, ...]
) -> dict[spf.Query, Answer]:
    """TXT answers by name (a str is one record), plus ``A_host=(...)``-style others; every
    name not given answers as void (NXDOMAIN), as a real resolver would."""
    answers: dict[spf.Query, Answer] = {(MS, "TXT"): Answer((MS_RECORD,))}
    for name, txt in records.items():
        answers[(name, "TXT")] = Answer((txt,) if isinstance(txt, str) else tuple(txt))
    for key, values in other.items():
        rdtype, _, name = key.partition("_")
        answers[(name.replace("_", "."), rdtype)] = Answer(values)
    return answers


class Resolver:
    """A fake resolver over a dict: counts the rounds of questions, answers void otherwise."""

    def __init__(self, answers: Mapping[spf.Query, Answer]) -> None:
        self.answers = answers
        self.asked: list[spf.Query] = []

    async def __call__(self, name: str, rdtype: str) -> Answer:
        self.asked.append((name, rdtype))
        return self.answers.get((name, rdtype), Answer())


def walk(record: str, answers: Mapping[spf.Query, Answer]) -> spf.Check:
    check = spf.evaluate(record, D, answers)
    # a void answer for whatever the test did not list: the walk is then complete
    while check.pending:
        answers = {**answers, **{q: Answer() for q in check.pending}}
        check = spf.evaluate(record, D, answers)
    return check


def test_is_spf_only_for_v_spf1() -> None:
    assert spf.is_spf("v=spf1 -all") and spf.is_spf("V=SPF1")
    assert not spf.is_spf("v=spf10 -all") and not spf.is_spf("MS=ms123")


@pytest.mark.parametrize(
    ("record", "error"),
    [
        ("v=spf1 ip4:192.0.2.300 -all", "ip4:192.0.2.300: not an IPv4 network"),
        ("v=spf1 ip4:2001:db8::1 -all", "not an IPv4 network"),
        ("v=spf1 ip6:192.0.2.1 -all", "not an IPv6 network"),
        ("v=spf1 ip4:192.0.2.0/33 -all", "not an IPv4 network"),
        ("v=spf1 ip4:192.0.2.0/024 -all", "bad prefix length"),
        ("v=spf1 include: -all", "include needs a domain"),
        ("v=spf1 exists -all", "exists needs a domain"),
        ("v=spf1 a:x.test/33 -all", "bad prefix length"),
        ("v=spf1 ptr/24 -all", "ptr takes no prefix length"),
        ("v=spf1 mx -all:x", "all takes no value"),
        ("v=spf1 inclde:x.test -all", "unknown mechanism 'inclde'"),
        ("v=spf1 include:%{z}.x.test -all", "not a valid macro"),
        ("v=spf1 +redirect=x.test", "a modifier takes no qualifier"),
        ("v=spf1 redirect=a.test redirect=b.test", "redirect= appears more than once"),
        ("v=spf1 exp=a.test exp=b.test -all", "exp= appears more than once"),
        ("v=spf1 redirect=", "redirect= needs a domain"),
        # section 4.6: anywhere in the record, even where evaluation never reaches
        ("v=spf1 -all ip4:bad", "ip4:bad: not an IPv4 network"),
    ],
)
def test_syntax_errors_are_permerrors(record: str, error: str) -> None:
    check = walk(record, dns({}))
    assert any(error in e for e in spf.parse(record).errors), spf.parse(record).errors
    assert check.permerrors and error in check.permerrors[0]
    assert check.lookups == 0  # a receiver evaluates nothing of a record with a syntax error


@pytest.mark.parametrize(
    "record",
    [
        "v=spf1 a mx/24 a:x.test/24//64 mx:y.test//64 ptr:z.test ip4:192.0.2.0/24 -all",
        "v=spf1 exists:%{i}.%{l1r-}.x.test include:%{d}.y.test ~all exp=explain.%{d}",
        "v=spf1 ip6:2001:db8::/32 ?all unknown-modifier=whatever",
        "v=spf1 redirect=_spf.x.test",
        "v=spf1",
    ],
)
def test_valid_records_have_no_syntax_error(record: str) -> None:
    assert spf.parse(record).errors == ()


def test_every_lookup_term_counts_and_an_include_reached_twice_counts_twice() -> None:
    answers = dns(
        {
            "_spf.contoso.com": f"v=spf1 include:shared.test include:{MS} -all",
            "mail.contoso.com": "v=spf1 include:shared.test -all",
            "shared.test": "v=spf1 a:h1.shared.test a:h2.shared.test mx:shared.test -all",
        },
        A_h1_shared_test=("192.0.2.1",),
        A_h2_shared_test=("192.0.2.2",),
        AAAA_h1_shared_test=("2001:db8::1",),
        AAAA_h2_shared_test=("2001:db8::2",),
        MX_shared_test=("10 mx.shared.test",),
    )
    record = "v=spf1 include:_spf.contoso.com include:mail.contoso.com -all"
    check = walk(record, answers)
    # _spf: 1 + shared (1 + 3) + Microsoft 1 = 6; mail: 1 + shared (1 + 3) = 5. Counting each
    # name once would say 7 and pass; a receiver counts 11 and fails it.
    assert check.lookups == 11
    assert check.costs == (("include:_spf.contoso.com", 6), ("include:mail.contoso.com", 5))
    assert check.permerrors == ("needs 11 DNS lookups (limit 10, RFC 7208 section 4.6.4)",)
    assert check.void_lookups == 0


def test_lookup_terms_are_the_six_that_cost_a_query() -> None:
    record = "v=spf1 a mx ptr exists:x.test include:i.test ip4:192.0.2.0/24 ip6:::1 redirect=r.test"
    answers = dns({"i.test": "v=spf1 -all", "r.test": "v=spf1 -all"})
    assert walk(record, answers).lookups == 6


def test_microsoft_reached_through_the_domains_own_include_is_authorised() -> None:
    answers = dns({"_spf.contoso.com": f"v=spf1 ip4:192.0.2.0/24 include:{MS} -all"})
    check = walk("v=spf1 include:_spf.contoso.com -all", answers)
    assert check.authorises(MS)
    assert check.passes[MS] == ("_spf.contoso.com", MS)
    assert check.lookups == 2 and check.permerrors == () and check.all == "-"


@pytest.mark.parametrize(
    ("record", "blocked"),
    [
        (f"v=spf1 -include:{MS} ~all", f"-include:{MS}"),
        (f"v=spf1 ~include:{MS} ~all", f"~include:{MS}"),
        (f"v=spf1 ?include:{MS} ~all", f"?include:{MS}"),
        # a qualifier on the way blocks everything behind it (section 5.2)
        ("v=spf1 ~include:_spf.contoso.com -all", "~include:_spf.contoso.com"),
    ],
)
def test_an_include_with_a_qualifier_does_not_authorise(record: str, blocked: str) -> None:
    answers = dns({"_spf.contoso.com": f"v=spf1 include:{MS} -all"})
    check = walk(record, answers)
    assert not check.authorises(MS)
    assert check.blocked[MS] == blocked


def test_nothing_after_all_is_reached() -> None:
    check = walk(f"v=spf1 -all include:{MS}", dns({}))
    assert not check.authorises(MS) and check.lookups == 0 and check.all == "-"


ENDINGS = [("-all", "-"), ("~all", "~"), ("?all", "?"), ("+all", "+"), ("all", "+"), ("", "")]


@pytest.mark.parametrize(("ending", "qualifier"), ENDINGS)
def test_the_all_that_ends_evaluation(ending: str, qualifier: str) -> None:
    assert walk(f"v=spf1 include:{MS} {ending}", dns({})).all == qualifier


def test_plus_all_in_an_authorised_include_opens_the_domain() -> None:
    answers = dns({"lazy.test": "v=spf1 +all"})
    assert walk("v=spf1 include:lazy.test -all", answers).open_through == ("lazy.test",)
    assert walk("v=spf1 -include:lazy.test -all", answers).open_through == ()


def test_void_lookups_past_two_are_a_permerror() -> None:
    answers = dns(
        {},
        A_here_test=("192.0.2.1",),
        AAAA_here_test=("2001:db8::1",),
        MX_mx_test=("10 here.test",),
    )
    two = walk("v=spf1 a:gone1.test mx:gone2.test a:here.test mx:mx.test -all", answers)
    assert two.void_lookups == 2 and two.permerrors == ()
    assert two.voids == ("a:gone1.test", "mx:gone2.test")
    three = walk("v=spf1 a:gone1.test mx:gone2.test exists:gone3.test -all", answers)
    assert three.void_lookups == 3
    assert three.permerrors == (
        "3 lookups find nothing (a:gone1.test, mx:gone2.test, exists:gone3.test; limit 2, "
        "RFC 7208 section 4.6.4)",
    )


def test_an_a_term_is_void_for_the_senders_whose_address_family_it_lacks() -> None:
    # section 5.3: a receiver asks A for an IPv4 sender, AAAA for an IPv6 one
    answers = dns({}, AAAA_v6_test=("2001:db8::1",), A_v4_test=("192.0.2.1",))
    assert walk("v=spf1 a:v6.test -all", answers).voids == ("a:v6.test",)
    assert walk("v=spf1 a:v6.test a:v4.test -all", answers).void_lookups == 1


def test_three_ipv4_only_a_terms_fail_every_mail_microsoft365_sends_over_ipv6() -> None:
    # no AAAA anywhere: a receiver of an IPv6 connection finds nothing three times before it
    # reaches Microsoft 365's include, and fails the whole record (section 4.6.4)
    hosts = {f"A_{h}_test": ("192.0.2.1",) for h in ("mail", "web", "vpn")}
    record = f"v=spf1 a:mail.test a:web.test a:vpn.test include:{MS} -all"
    check = walk(record, dns({}, **hosts))
    assert check.void_lookups == 3 and check.authorises(MS)
    assert check.permerrors == (
        "3 lookups find nothing for a sender over IPv6 (a:mail.test, a:web.test, a:vpn.test; "
        "limit 2, RFC 7208 section 4.6.4)",
    )


def test_more_than_ten_mx_is_a_permerror() -> None:
    many = tuple(f"{i} mx{i}.test" for i in range(11))
    check = walk("v=spf1 mx:big.test -all", dns({}, MX_big_test=many))
    assert check.permerrors == ("mx:big.test: big.test has 11 MX records (at most 10)",)


def test_an_include_loop_is_an_error() -> None:
    answers = dns({"a.test": "v=spf1 include:b.test -all", "b.test": "v=spf1 include:a.test -all"})
    check = walk(f"v=spf1 include:a.test include:{MS} -all", answers)
    assert check.permerrors == ("include loop: contoso.com → a.test → b.test → a.test",)


def test_the_same_include_twice_in_a_row_is_no_loop() -> None:
    check = walk(f"v=spf1 include:{MS} include:{MS} -all", dns({}))
    assert check.permerrors == () and check.lookups == 2


@pytest.mark.parametrize(
    ("txt", "why"),
    [
        ([], "include:gone.test: gone.test has no SPF record"),
        (["hello"], "include:gone.test: gone.test has no SPF record"),
        (["v=spf1 -all", "v=spf1 a -all"], "include:gone.test: gone.test has 2 SPF records"),
    ],
)
def test_an_include_without_exactly_one_spf_record_is_a_permerror(txt: list[str], why: str) -> None:
    check = walk(f"v=spf1 include:{MS} include:gone.test -all", dns({"gone.test": txt}))
    assert check.permerrors == (why,)
    assert check.broken == ("gone.test",)
    assert check.authorises(MS)


def test_a_failed_include_is_unresolved_not_a_permerror() -> None:
    answers = {**dns({}), ("slow.test", "TXT"): Answer(failure="timeout")}
    check = spf.evaluate(f"v=spf1 include:slow.test include:{MS} -all", D, answers)
    assert check.unresolved == ("could not get the SPF record of slow.test (timeout)",)
    assert check.permerrors == () and not check.counted


def test_redirect_is_followed_and_its_all_decides() -> None:
    answers = dns({"_spf.contoso.com": f"v=spf1 include:{MS} ~all"})
    check = walk("v=spf1 mx redirect=_spf.contoso.com", answers)
    assert check.authorises(MS) and check.all == "~"
    assert check.lookups == 3
    assert check.costs == (("mx", 1), ("redirect=_spf.contoso.com", 2))


def test_redirect_is_ignored_beside_all() -> None:
    answers = dns({"_spf.contoso.com": f"v=spf1 include:{MS} -all"})
    check = walk("v=spf1 mx redirect=_spf.contoso.com ~all", answers)
    assert not check.authorises(MS) and check.lookups == 1


def test_a_redirect_to_no_record_and_a_redirect_loop_are_errors() -> None:
    gone = walk("v=spf1 redirect=gone.test", dns({}))
    assert gone.permerrors == ("redirect=gone.test: gone.test has no SPF record",)
    loop = walk("v=spf1 redirect=a.test", dns({"a.test": "v=spf1 redirect=contoso.com"}))
    assert loop.permerrors == ("redirect loop: contoso.com → a.test → contoso.com",)


def test_macros_are_counted_and_not_followed() -> None:
    check = walk("v=spf1 exists:%{i}.x.test include:%{d}.y.test -all", dns({}))
    assert check.lookups == 2 and check.void_lookups == 0
    assert "include:%{d}.y.test: not followed (it uses a macro)" in check.notes


async def test_check_asks_one_round_per_level_all_at_once() -> None:
    answers = dns(
        {
            "l1.test": "v=spf1 include:l2.test a:h.test -all",
            "l2.test": f"v=spf1 include:{MS} -all",
        },
        A_h_test=("192.0.2.1",),
    )
    resolver = Resolver(answers)
    check = await spf.check("v=spf1 include:l1.test mx -all", D, resolver)
    assert check.rounds == 3  # l1 (+ mx), then l2 and h.test, then Microsoft's
    assert check.authorises(MS) and check.lookups == 5 and check.counted
    assert len(resolver.asked) == len(set(resolver.asked))  # nothing asked twice


async def test_check_stops_asking_once_over_the_limit() -> None:
    wide = {f"i{n}.test": f"v=spf1 include:deep{n}.test -all" for n in range(6)}
    record = "v=spf1 " + " ".join(f"include:i{n}.test" for n in range(6)) + " -all"
    resolver = Resolver(dns(wide))
    check = await spf.check(record, D, resolver)
    # 6 includes, then each one's include: 12 > 10, without asking for the deep records
    assert check.rounds == 1 and check.lookups == 12 and not check.counted
    assert check.permerrors == ("needs at least 12 DNS lookups (limit 10, RFC 7208 section 4.6.4)",)
    assert not any(name.startswith("deep") for name, _ in resolver.asked)


# ------------------------------------------------------------------------------ the fix


def retired(target: str) -> bool:
    return target.endswith("frontbridge.com")


def test_suggest_replaces_a_retired_include_and_keeps_the_rest() -> None:
    s = spf.suggest(["v=spf1 mx include:spf.frontbridge.com ~all"], add=MS, retired=retired)
    assert s.record == f"v=spf1 mx include:{MS} ~all"
    assert s.changes == ("include:spf.frontbridge.com removed: a retired platform",)


def test_suggest_never_drops_an_include_it_is_told_to_keep() -> None:
    s = spf.suggest(
        ["v=spf1 include:spf.frontbridge.com -all"],
        add=MS,
        retired=retired,
        keep={"spf.frontbridge.com"},
    )
    assert s.record == f"v=spf1 include:spf.frontbridge.com include:{MS} -all"
    assert s.changes == ()


def test_suggest_adds_no_duplicate_when_an_own_include_reaches_microsoft() -> None:
    record = "v=spf1 include:_spf.contoso.com -all"
    s = spf.suggest([record], add=MS, authorised_via={"_spf.contoso.com"})
    assert s.record == record


def test_suggest_lifts_a_qualifier_that_keeps_microsoft_out() -> None:
    s = spf.suggest([f"v=spf1 mx ?include:{MS} -all"], add=MS)
    assert s.record == f"v=spf1 mx include:{MS} -all"
    assert s.changes == (f"?include:{MS} kept Microsoft 365 out: now include:{MS}",)


@pytest.mark.parametrize(
    ("record", "ending", "why"),
    [
        ("v=spf1 mx +all", "~all", "+all let anyone send as the domain: now ~all"),
        ("v=spf1 mx ?all", "~all", "?all let anyone send as the domain: now ~all"),
        ("v=spf1 mx", "~all", "no all: a sender not listed got neutral"),
        ("v=spf1 mx ~all", "~all", None),
        ("v=spf1 mx -all", "-all", None),
    ],
)
def test_suggest_ends_with_an_all_that_loses_no_mail(
    record: str, ending: str, why: str | None
) -> None:
    s = spf.suggest([record], add=MS)
    assert s.record == f"v=spf1 mx include:{MS} {ending}"
    assert (why is None and s.changes == ()) or (why is not None and why in s.changes[0])


def test_suggest_moves_terms_found_after_all_before_it() -> None:
    s = spf.suggest([f"v=spf1 -all include:{MS}"], add=MS)
    assert s.record == f"v=spf1 include:{MS} -all"
    assert s.changes[0].startswith(f"include:{MS} moved before -all")


def test_merge_keeps_every_term_once_and_fails_strangers_only_if_every_record_did() -> None:
    merged = spf.suggest([f"v=spf1 include:{MS} -all", "v=spf1 MX include:x.test ~all"], add=MS)
    assert merged.record == f"v=spf1 include:{MS} MX include:x.test ~all"
    both_fail = spf.suggest(["v=spf1 a -all", "v=spf1 A mx -all"], add=MS)
    assert both_fail.record == f"v=spf1 a mx include:{MS} -all"


def test_merge_keeps_a_redirect() -> None:
    s = spf.suggest(["v=spf1 redirect=_spf.contoso.com", "v=spf1 mx"], add=MS)
    assert s.record == f"v=spf1 mx include:{MS} redirect=_spf.contoso.com"
    reached = spf.suggest(
        ["v=spf1 redirect=_spf.contoso.com", "v=spf1 mx"],
        add=MS,
        authorised_via={"_spf.contoso.com"},
    )
    assert reached.record == "v=spf1 mx redirect=_spf.contoso.com"


def test_merge_turns_a_redirect_into_an_include_beside_an_all() -> None:
    s = spf.suggest(["v=spf1 redirect=_spf.contoso.com", "v=spf1 mx -all"], add=MS)
    assert s.record == f"v=spf1 mx include:_spf.contoso.com include:{MS} -all"
    assert "beside an all a redirect is ignored (RFC 7208 section 6.1)" in s.changes[0]


def test_two_redirects_cannot_be_merged_and_say_why() -> None:
    s = spf.suggest(["v=spf1 redirect=a.test", "v=spf1 redirect=b.test"], add=MS)
    assert s.record == ""
    assert s.why_not.startswith(
        "they redirect to a.test and b.test, and one record can hold only one redirect= "
        "(RFC 7208 section 6)"
    )


def test_suggest_drops_a_broken_include_and_says_so() -> None:
    s = spf.suggest([f"v=spf1 include:{MS} include:gone.test -all"], add=MS, broken={"gone.test"})
    assert s.record == f"v=spf1 include:{MS} -all"
    assert "gone.test has no usable SPF record" in s.changes[0]


def test_suggest_counts_what_the_new_record_costs() -> None:
    costs = {"include:big.test": 9, "mx": 1}
    s = spf.suggest(["v=spf1 include:big.test mx -all"], add=MS, costs=costs)
    assert s.lookups == 11


def test_a_long_record_is_written_as_strings_of_at_most_255() -> None:
    networks = " ".join(f"ip4:192.0.2.{i}" for i in range(40))
    s = spf.suggest([f"v=spf1 {networks} -all"], add=MS)
    strings = spf.txt_strings(s.record)
    assert len(strings) == 3 and all(len(part) <= 255 for part in strings)
    assert "".join(strings) == s.record  # section 3.3: joined with nothing between
    assert all(part.endswith(" ") for part in strings[:-1])
    assert s.txt == " ".join(f'"{part}"' for part in strings)
    assert spf.txt_strings("v=spf1 -all") == ("v=spf1 -all",)


SPF_WORDS = st.sampled_from(
    ["a", "mx", "-all", "~all", "include:x.test", "redirect=y.test", "ip4:192.0.2.0/24", "+", "=",
     ":", "exists:%{i}.z", "a/24", "?ptr", "exp=e.test", "include:", "v=spf1", f"-include:{MS}",
     "include:loop.test", "+all", "mx:gone.test", "include:spf.frontbridge.com"]
)  # fmt: skip
LOOPING = dns({"x.test": "v=spf1 include:loop.test -all", "loop.test": "v=spf1 include:x.test"})


@settings(deadline=None)  # a loaded machine is slow: no timed assertions
@given(st.lists(st.one_of(SPF_WORDS, st.text(max_size=12).filter(str.strip)), max_size=12))
def test_any_spf_text_walks_and_rewrites_without_raising(words: list[str]) -> None:
    record = " ".join(["v=spf1", *words])
    check = walk(record, LOOPING)
    assert check.lookups >= 0 and check.void_lookups >= 0
    suggestion = spf.suggest([record, "v=spf1 mx -all"], add=MS, retired=retired)
    if spf.parse(record).errors or suggestion.why_not:
        return
    # a record without syntax errors always becomes one without, that authorises Microsoft
    assert spf.parse(suggestion.record).errors == ()
    rewritten = walk(suggestion.record, LOOPING)
    assert rewritten.authorises(MS) or any("loop" in e for e in rewritten.permerrors)
    assert rewritten.all in ("-", "~") or spf.parse(suggestion.record).redirect is not None
