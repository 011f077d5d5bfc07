"""Properties of change detection over random poll sequences, unknowns included."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.dnscheck.model import Audit, AuditErrorKind
from bot.watch.detect import TenantFacts, detect
from bot.watch.events import Event, EventKind
from bot.watch.observation import Observation
from tests.watch.audits import audit

NOW = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)
VARIED = ("autodiscover", "spf", "sip")


@dataclass(frozen=True)
class Poll:
    verdicts: tuple[str, ...]  # for VARIED; the rest stay ok
    mx: tuple[str | None, str | None]
    unreachable: bool = False

    def audit(self) -> Audit:
        if self.unreachable:
            return audit(error=AuditErrorKind.UNREACHABLE)
        # a poll that learns nothing: every answer unknown (the other records too)
        records = "unknown" if self.no_news else "ok"
        overrides = dict(zip(VARIED, self.verdicts, strict=True))
        return audit(records=records, overrides=overrides, mx=self.mx)

    @property
    def no_news(self) -> bool:
        return self.unreachable or (
            all(v == "unknown" for v in self.verdicts) and self.mx == (None, None)
        )


polls = st.builds(
    Poll,
    st.tuples(*[st.sampled_from(["ok", "wrong", "unknown"])] * len(VARIED)),
    st.tuples(*[st.sampled_from(["old", "m365", None])] * 2),
)
UNREACHABLE = Poll(("unknown",) * 3, (None, None), unreachable=True)
sequences = st.lists(st.one_of(polls, st.just(UNREACHABLE)), max_size=25)


def play(seq: list[Poll], facts: TenantFacts) -> list[list[Event]]:
    obs = Observation()
    per_poll = []
    for poll in seq:
        outcome = detect(obs, {"contoso.com": poll.audit()}, None, facts, NOW)
        obs = outcome.observation
        per_poll.append(list(outcome.events))
    return per_poll


def rising_edges(values: list[bool]) -> int:
    return sum(
        1 for before, now in zip([False, *values], values, strict=False) if now and not before
    )


FLAKY = Poll(("unknown",) * 3, (None, None))


@settings(max_examples=300)
@given(sequences, st.booleans())
@example([Poll(("ok",) * 3, ("m365", "m365")), FLAKY, Poll(("ok",) * 3, ("m365", "m365"))], False)
def test_keys_unique_and_unknowns_change_nothing(seq: list[Poll], verified: bool) -> None:
    facts = TenantFacts(tenant_id=1, data_verified=verified, mx_approved=True)
    events = [e for poll in play(seq, facts) for e in poll]
    keys = [e.key for e in events]
    assert len(keys) == len(set(keys))

    # The same run without the polls that brought no news announces exactly the same things.
    cleaned = [e for poll in play([p for p in seq if not p.no_news], facts) for e in poll]
    assert [(e.kind, e.key, e.text) for e in cleaned] == [(e.kind, e.key, e.text) for e in events]


@settings(max_examples=300)
@given(sequences)
def test_announcements_match_the_known_state(seq: list[Poll]) -> None:
    """An independent model: carry the last known value forward, count the rising edges."""
    known: dict[str, str] = {}
    mx_known: dict[int, bool] = {}
    ready, moved = [], []
    for poll in seq:
        if not poll.unreachable:
            for rid, v in zip(VARIED, poll.verdicts, strict=True):
                if v != "unknown":
                    known[rid] = v
            for i, m in enumerate(poll.mx):
                if m is not None:
                    mx_known[i] = m == "m365"
        ready.append(all(known.get(r) == "ok" for r in VARIED))  # never known is not ready
        moved.append(bool(mx_known) and all(mx_known.values()))
    per_poll = play(seq, TenantFacts(tenant_id=1, data_verified=True))
    count = {
        kind: sum(1 for poll in per_poll for e in poll if e.kind is kind) for kind in EventKind
    }
    assert count[EventKind.RECORDS_READY] == rising_edges(ready)
    assert count[EventKind.MX_MOVED] == rising_edges(moved)
    assert count[EventKind.MX_MOVED_EARLY] == 0  # data verified: never early
    for poll, events in zip(seq, per_poll, strict=True):
        if poll.no_news:
            assert events == []
