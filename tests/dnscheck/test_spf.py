"""SPF parsing, lookup counting through includes (with an injected fetch), and fix texts."""

from __future__ import annotations

from collections.abc import Mapping

from hypothesis import given
from hypothesis import strategies as st

from bot.dnscheck import spf


def fetcher(records: Mapping[str, list[str] | None]) -> spf.Fetch:
    async def fetch(domain: str) -> list[str] | None:
        return records.get(domain, [])

    return fetch


def test_is_spf_only_for_v_spf1() -> None:
    assert spf.is_spf("v=spf1 -all") and spf.is_spf("V=SPF1")
    assert not spf.is_spf("v=spf10 -all") and not spf.is_spf("MS=ms123")


def test_lookup_terms_are_the_six_that_cost_a_query() -> None:
    count, follow = spf.lookup_targets(
        "v=spf1 a mx/24 ptr exists:%{i}.x.test include:A.test ip4:192.0.2.0/24 ~all redirect=b.test"
    )
    assert count == 6
    assert follow == ["a.test", "b.test"]


async def test_counts_recursively_and_stops_at_loops() -> None:
    records = {
        "a.test": ["v=spf1 include:b.test include:c.test -all", "unrelated text"],
        "b.test": ["v=spf1 a mx include:a.test -all"],
        "c.test": ["v=spf1 ip4:192.0.2.1 -all"],
    }
    result = await spf.count_lookups("v=spf1 mx include:a.test -all", fetcher(records))
    # top: mx, include:a = 2; a: 2 includes; b: a, mx, include:a (not followed again) = 3
    assert result.lookups == 7
    assert result.problems == ()


async def test_a_failed_include_is_a_problem_not_a_crash() -> None:
    result = await spf.count_lookups(
        "v=spf1 include:gone.test include:two.test -all",
        fetcher({"gone.test": None, "two.test": ["v=spf1 -all", "v=spf1 a -all"]}),
    )
    assert result.lookups == 2
    assert result.problems == (
        "could not fetch the SPF record of gone.test",
        "two.test has 2 SPF records, not 1",
    )


def legacy(target: str) -> bool:
    return target.endswith("frontbridge.com")


def test_with_microsoft365_replaces_legacy_and_keeps_the_rest() -> None:
    assert (
        spf.with_microsoft365(
            "v=spf1 mx include:spf.frontbridge.com ~all", "spf.protection.outlook.com", legacy
        )
        == "v=spf1 mx include:spf.protection.outlook.com ~all"
    )
    assert (
        spf.with_microsoft365("v=spf1 a", "spf.protection.outlook.com", legacy)
        == "v=spf1 a include:spf.protection.outlook.com -all"
    )


def test_merge_keeps_every_term_once_and_the_first_all() -> None:
    merged = spf.merge(
        ["v=spf1 include:spf.protection.outlook.com -all", "v=spf1 mx include:x.test ~all"],
        "spf.protection.outlook.com",
        legacy,
    )
    assert merged == "v=spf1 include:spf.protection.outlook.com mx include:x.test -all"


SPF_WORDS = st.sampled_from(
    ["a", "mx", "-all", "~all", "include:x.test", "redirect=y.test", "ip4:192.0.2.0/24", "+", "=",
     ":", "exists:%{i}.z", "a/24", "?ptr", "exp=e.test", "include:", "v=spf1"]
)  # fmt: skip


@given(st.lists(st.one_of(SPF_WORDS, st.text(max_size=12).filter(str.strip)), max_size=12))
def test_any_spf_text_parses_counts_and_rewrites_without_raising(words: list[str]) -> None:
    record = " ".join(["v=spf1", *words])
    count, follow = spf.lookup_targets(record)
    assert 0 <= count <= len(record.split())
    assert all(target for target in follow)
    rewritten = spf.with_microsoft365(record, "spf.protection.outlook.com", legacy)
    assert spf.is_spf(rewritten) and "include:spf.protection.outlook.com" in rewritten
    merged = spf.merge([record, "v=spf1 mx -all"], "spf.protection.outlook.com", legacy)
    assert spf.is_spf(merged)
