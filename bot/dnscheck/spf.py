"""SPF (RFC 7208): find the record, read its terms, count the DNS lookups it costs.

Parsing is pure. Counting follows ``include:`` and ``redirect=`` through an injected ``fetch``
(the audit passes one that asks the resolver), so tests can count with a dict.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field

# mechanisms and modifiers that cost one DNS lookup each (RFC 7208 section 4.6.4)
LOOKUP_TERMS = ("include", "a", "mx", "ptr", "exists", "redirect")
RECURSIVE_TERMS = ("include", "redirect")

Fetch = Callable[[str], Awaitable[list[str] | None]]  # domain -> its TXT strings, None = failed


def is_spf(txt: str) -> bool:
    lowered = txt.strip().lower()
    return lowered == "v=spf1" or lowered.startswith("v=spf1 ")


def spf_records(txts: Iterable[str]) -> list[str]:
    return [t for t in txts if is_spf(t)]


@dataclass(frozen=True)
class Term:
    qualifier: str  # "+", "-", "~", "?" ("" for modifiers)
    name: str  # "include", "a", "all", "redirect", ...
    value: str  # "spf.protection.outlook.com", "" when none

    def __str__(self) -> str:
        if self.name in ("redirect", "exp"):
            return f"{self.name}={self.value}"
        q = "" if self.qualifier == "+" else self.qualifier
        return f"{q}{self.name}:{self.value}" if self.value else f"{q}{self.name}"


def parse(record: str) -> list[Term]:
    """The terms after ``v=spf1``; unknown words are kept, so nothing is silently lost."""
    terms: list[Term] = []
    for word in record.split()[1:]:
        if "=" in word and ":" not in word.split("=", 1)[0]:
            name, _, value = word.partition("=")
            terms.append(Term("", name.lower(), value))
            continue
        qualifier = "+"
        if word[0] in "+-~?":
            qualifier, word = word[0], word[1:]
        name, sep, value = word.partition(":")
        if not sep and "/" in name:  # "a/24", "mx/24"
            name, _, _ = name.partition("/")
        terms.append(Term(qualifier, name.lower(), value))
    return terms


def includes(record: str) -> list[str]:
    return [t.value.lower().rstrip(".") for t in parse(record) if t.name == "include"]


def lookup_targets(record: str) -> tuple[int, list[str]]:
    """(lookups this record costs itself, the domains whose SPF must be counted too)."""
    count, follow = 0, []
    for term in parse(record):
        if term.name in LOOKUP_TERMS:
            count += 1
            if term.name in RECURSIVE_TERMS and term.value and "%" not in term.value:
                follow.append(term.value.lower().rstrip("."))
    return count, follow


@dataclass(frozen=True)
class LookupCount:
    lookups: int
    problems: tuple[str, ...] = field(default=())  # "could not fetch the SPF of x.example"


async def count_lookups(record: str, fetch: Fetch, *, limit: int = 10) -> LookupCount:
    """DNS lookups needed to evaluate ``record``, following includes concurrently.

    Stops descending once the count is past ``limit`` (the answer is "too many" either way)
    and never follows a domain twice (loops).
    """
    seen: set[str] = set()
    problems: list[str] = []

    async def walk(text: str, depth: int) -> int:
        own, follow = lookup_targets(text)
        fresh = [d for d in follow if d not in seen]
        seen.update(fresh)
        if depth > limit or not fresh:
            return own
        counts = await asyncio.gather(*(child(d, depth) for d in fresh))
        return own + sum(counts)

    async def child(domain: str, depth: int) -> int:
        txts = await fetch(domain)
        if txts is None:
            problems.append(f"could not fetch the SPF record of {domain}")
            return 0
        found = spf_records(txts)
        if len(found) != 1:
            problems.append(f"{domain} has {len(found)} SPF records, not 1")
            return 0
        return await walk(found[0], depth + 1)

    total = await walk(record, 0)
    return LookupCount(total, tuple(problems))


def with_microsoft365(record: str, include: str, legacy: Callable[[str], bool]) -> str:
    """``record`` with legacy includes dropped and ``include:<include>`` added before ``all``."""
    terms = [t for t in parse(record) if not (t.name == "include" and legacy(t.value))]
    if not any(t.name == "include" and t.value.lower().rstrip(".") == include for t in terms):
        at = next(
            (i for i, t in enumerate(terms) if t.name in ("all", "redirect")),
            len(terms),
        )
        terms.insert(at, Term("+", "include", include))
    if not any(t.name in ("all", "redirect") for t in terms):
        terms.append(Term("-", "all", ""))
    return " ".join(["v=spf1", *(str(t) for t in terms)])


def merge(records: Iterable[str], include: str, legacy: Callable[[str], bool]) -> str:
    """One record holding every term of ``records`` (first ``all`` wins) plus Microsoft 365's."""
    merged: list[Term] = []
    ending: Term | None = None
    for record in records:
        for term in parse(record):
            if term.name in ("all", "redirect"):
                ending = ending or term
            elif term not in merged:
                merged.append(term)
    text = " ".join(["v=spf1", *(str(t) for t in merged), *([str(ending)] if ending else [])])
    return with_microsoft365(text, include, legacy)
