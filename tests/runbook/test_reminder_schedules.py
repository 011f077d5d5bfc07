"""Reminder schedules: parsing, crontab weekdays, fire times across DST, the catch-up rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from bot.core.reminders import (
    CronSpec,
    ScheduleError,
    crontab_weekdays,
    next_fire,
    next_fires,
    parse_schedule,
    plan_run,
    same_times,
)

BERLIN = "Europe/Berlin"
NEW_YORK = "America/New_York"


@pytest.mark.parametrize(
    ("text", "dow", "hour", "minute"),
    [
        ("weekdays 09:00", "mon-fri", "9", "0"),
        ("daily 16:30", "*", "16", "30"),
        ("Daily 7:05", "*", "7", "5"),
        ('cron "0 9 * * 1-5"', "mon,tue,wed,thu,fri", "9", "0"),
        ("cron 0 9 * * 0", "sun", "9", "0"),
        ("cron “15 8 * * 6,7”", "sat,sun", "8", "15"),
    ],
)
def test_parse(text: str, dow: str, hour: str, minute: str) -> None:
    spec = parse_schedule(text)
    assert (spec.day_of_week, spec.hour, spec.minute) == (dow, hour, minute)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "hourly",
        "weekdays",
        "weekdays 25:00",
        "daily 9",
        'cron "0 9 * *"',
        'cron "0 99 * * *"',
        'cron "0 9 * * 8"',
        'cron "0 9 * * 5-1"',
    ],
)
def test_bad_schedules_say_why_and_how(text: str) -> None:
    with pytest.raises(ScheduleError, match="weekdays 09:00"):
        parse_schedule(text)


@given(st.sets(st.integers(min_value=0, max_value=6), min_size=1))
@example({0})
@example({1, 2, 3, 4, 5})
def test_crontab_weekdays_round_trip(days: set[int]) -> None:
    """Crontab weekday numbers (0 = Sunday) mean the same days after translation."""
    field = ",".join(str(d) for d in sorted(days))
    spec = CronSpec("x", "0", "12", day_of_week=crontab_weekdays(field))
    start = datetime(2026, 1, 4, tzinfo=UTC)  # a Sunday
    fires = next_fires(spec, "UTC", start, 7 * 3)
    seen = {(f.weekday() + 1) % 7 for f in fires}  # python Monday=0 -> crontab Monday=1
    assert seen == days


def test_weekdays_skip_the_weekend() -> None:
    spec = parse_schedule("weekdays 09:00")
    friday = datetime(2026, 6, 5, 8, 0, tzinfo=UTC)
    fires = next_fires(spec, BERLIN, friday, 2)
    assert [f.strftime("%a %H:%M") for f in fires] == ["Mon 09:00", "Tue 09:00"]


@pytest.mark.parametrize(
    ("zone", "before", "utc_before", "utc_after"),
    [
        (BERLIN, datetime(2026, 3, 27, 12, tzinfo=UTC), 8, 7),  # CET -> CEST on 29 March
        (NEW_YORK, datetime(2026, 3, 6, 20, tzinfo=UTC), 14, 13),  # EST -> EDT on 8 March
        (BERLIN, datetime(2026, 10, 23, 12, tzinfo=UTC), 7, 8),  # CEST -> CET on 25 October
    ],
)
def test_local_time_stays_put_across_dst(
    zone: str, before: datetime, utc_before: int, utc_after: int
) -> None:
    spec = parse_schedule("daily 09:00")
    first, second = next_fires(spec, zone, before, 2)
    assert first.hour == second.hour == 9  # local
    assert first.astimezone(UTC).hour == utc_before
    assert second.astimezone(UTC).hour == utc_after


def test_a_time_that_does_not_exist_fires_once_that_day() -> None:
    """02:30 does not exist in Berlin on 29 March 2026; the next day it is normal again."""
    spec = parse_schedule("daily 02:30")
    fires = next_fires(spec, BERLIN, datetime(2026, 3, 28, 12, tzinfo=UTC), 2)
    assert len({f.date() for f in fires}) == 2


def test_catch_up_within_grace_posts_once_and_moves_past_now() -> None:
    spec = parse_schedule("daily 09:00")
    due = datetime(2026, 6, 1, 7, 0, tzinfo=UTC)
    now = due + timedelta(minutes=20)
    plan = plan_run(spec, BERLIN, due, now, grace=timedelta(hours=1))
    assert plan.post and not plan.missed
    assert plan.next_run == datetime(2026, 6, 2, 7, 0, tzinfo=UTC)
    late = plan_run(spec, BERLIN, due, due + timedelta(days=3), grace=timedelta(hours=1))
    assert not late.post and late.missed
    assert late.next_run is not None and late.next_run > due + timedelta(days=3)
    early = plan_run(spec, BERLIN, due, due - timedelta(seconds=1))
    assert not early.post and early.next_run == due


def test_next_fire_is_strictly_after() -> None:
    spec = parse_schedule("daily 09:00")
    at_nine = datetime(2026, 6, 1, 7, 0, tzinfo=UTC)
    assert next_fire(spec, BERLIN, at_nine) == at_nine + timedelta(days=1)


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("weekdays 09:00", 'cron "0 9 * * 1-5"', True),
        ("daily 9:00", 'cron "00 09 */1 * *"', True),
        ('cron "0 9 * * 0"', 'cron "0 9 * * 7"', True),  # Sunday either way
        ("daily 09:00", "weekdays 09:00", False),
        ('cron "10 9 * * *"', 'cron "0 9 * * *"', False),
        ('cron "0 9 1 * *"', 'cron "0 9 10 * *"', False),
    ],
)
def test_same_times(a: str, b: str, same: bool) -> None:
    assert same_times(parse_schedule(a), parse_schedule(b)) is same
