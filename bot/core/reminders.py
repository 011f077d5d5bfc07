"""Reminder schedules (pure): parse what people type, compute fire times in the tenant's zone.

Accepted: ``weekdays 09:00``, ``daily 16:30``, ``cron "0 9 * * 1-5"`` (standard crontab
numbering: 0 or 7 is Sunday). APScheduler's CronTrigger does the calendar and DST arithmetic;
its 3.x weekday numbers start at Monday, so crontab weekdays are translated to names here.

Catch-up: a run missed while the bot was down is posted once on start if it is at most
``grace`` old, and the next run is computed from *now*, so a long outage never posts once per
missed tick.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.cron import CronTrigger

DEFAULT_GRACE = timedelta(hours=1)
_CRON_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")  # crontab order, 0 = Sunday
_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")

USAGE = (
    'Use `weekdays 09:00`, `daily 16:30` or `cron "0 9 * * 1-5"` '
    "(minute hour day month weekday; weekday 0 or 7 is Sunday)."
)


# The stored schedule's columns (storage.models.Reminder): longer ones are refused, not cut.
MAX_SCHEDULE = 200
MAX_FIELD = 64


class ScheduleError(ValueError):
    """The schedule text is not one we accept; the message says what is wrong and the usage."""


@dataclass(frozen=True)
class CronSpec:
    """A parsed schedule: APScheduler CronTrigger fields, plus the text the user typed."""

    text: str
    minute: str
    hour: str
    day: str = "*"
    month: str = "*"
    day_of_week: str = "*"


def parse_schedule(text: str) -> CronSpec:
    words = text.strip()
    kind, _, rest = words.partition(" ")
    kind, rest = kind.lower(), rest.strip()
    if kind in ("weekdays", "daily"):
        match = _TIME.match(rest)
        if not match:
            raise ScheduleError(f"`{rest or '(nothing)'}` is not a time like 09:00. {USAGE}")
        hour, minute = int(match.group(1)), int(match.group(2))
        dow = "mon-fri" if kind == "weekdays" else "*"
        spec = CronSpec(f"{kind} {hour:02d}:{minute:02d}", str(minute), str(hour), day_of_week=dow)
    elif kind == "cron":
        expr = rest.strip().strip('"').strip("'").strip("“”").strip()
        fields = expr.split()
        if len(fields) != 5:
            raise ScheduleError(
                f"A cron schedule has 5 fields, `{expr}` has {len(fields)}. {USAGE}"
            )
        c_minute, c_hour, c_day, c_month, c_dow = fields
        spec = CronSpec(f'cron "{expr}"', c_minute, c_hour, c_day, c_month, crontab_weekdays(c_dow))
    else:
        raise ScheduleError(f"I don't know the schedule `{words or '(empty)'}`. {USAGE}")
    columns = (spec.minute, spec.hour, spec.day, spec.month, spec.day_of_week)
    if len(spec.text) > MAX_SCHEDULE or any(len(c) > MAX_FIELD for c in columns):
        raise ScheduleError(f"That schedule is too long; use ranges like 1-5 or */15. {USAGE}")
    try:
        trigger(spec, "UTC")
    except ValueError as exc:
        raise ScheduleError(f"`{spec.text}` is not a valid schedule ({exc}). {USAGE}") from None
    return spec


_LEADING_ZEROS = re.compile(r"(?<!\d)0+(?=\d)")


def _canonical_field(field: str) -> str:
    """``09`` -> ``9``, ``*/1`` -> ``*``: spellings of the same values."""
    text = _LEADING_ZEROS.sub("", field.strip().lower())
    return "*" if text == "*/1" else text


def same_times(a: CronSpec, b: CronSpec) -> bool:
    """Do ``a`` and ``b`` fire at the same times? ``weekdays 09:00`` and ``cron "0 9 * * 1-5"``
    do. Compares canonical fields, so it may miss an exotic equivalence; it never calls two
    different schedules the same."""

    def key(spec: CronSpec) -> tuple[str, ...]:
        numeric = (spec.minute, spec.hour, spec.day, spec.month)
        return (*(_canonical_field(f) for f in numeric), crontab_weekdays(spec.day_of_week))

    return key(a) == key(b)


def crontab_weekdays(field: str) -> str:
    """A crontab weekday field (0/7 = Sunday, names allowed) as an APScheduler 3 field."""
    days: set[int] = set()
    for part in field.lower().split(","):
        base, _, step_text = part.partition("/")
        step = _int(step_text, field) if step_text else 1
        if step < 1:
            raise ScheduleError(f"Weekday step in `{field}` must be at least 1. {USAGE}")
        if base == "*":
            first, last = 0, 6
        elif "-" in base:
            a, b = base.split("-", 1)
            first, last = _day(a, field), _day(b, field)
            if last == 0 and b.strip() == "7":
                last = 7
            if first > last:
                raise ScheduleError(f"Weekday range `{base}` runs backwards. {USAGE}")
        else:
            first = last = _day(base, field)
            if step_text:
                last = 6
        days.update(d % 7 for d in range(first, last + 1, step))
    if len(days) == 7:
        return "*"
    # APScheduler counts from Monday; list names in that order for a readable field.
    monday_first = sorted(days, key=lambda d: (d - 1) % 7)
    return ",".join(_CRON_DAYS[d] for d in monday_first)


def _int(text: str, field: str) -> int:
    if not text.isdigit():
        raise ScheduleError(f"`{field}` is not a weekday field. {USAGE}")
    return int(text)


def _day(text: str, field: str) -> int:
    text = text.strip()
    if text[:3] in _CRON_DAYS and len(text) >= 3:
        return _CRON_DAYS.index(text[:3])
    value = _int(text, field)
    if value > 7:
        raise ScheduleError(f"Weekday {value} in `{field}` is out of range (0-7). {USAGE}")
    return value % 7 if value != 7 else 0


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a name too long for a file
        raise ScheduleError(
            f"`{name}` is not a time zone; use a name like Europe/Berlin or America/New_York."
        ) from None


def trigger(spec: CronSpec, time_zone: str) -> CronTrigger:
    return CronTrigger(
        minute=spec.minute,
        hour=spec.hour,
        day=spec.day,
        month=spec.month,
        day_of_week=spec.day_of_week,
        timezone=zone(time_zone),
    )


def next_fire(spec: CronSpec, time_zone: str, after: datetime) -> datetime | None:
    """The first fire time strictly after ``after`` (aware), in the tenant's zone."""
    start = after + timedelta(microseconds=1)
    fire: datetime | None = trigger(spec, time_zone).get_next_fire_time(None, start)
    return fire


def next_fires(spec: CronSpec, time_zone: str, after: datetime, count: int) -> list[datetime]:
    fires: list[datetime] = []
    current = after
    for _ in range(count):
        nxt = next_fire(spec, time_zone, current)
        if nxt is None:
            break
        fires.append(nxt)
        current = nxt
    return fires


@dataclass(frozen=True)
class RunPlan:
    post: bool  # post the reminder now
    next_run: datetime | None  # store this as the next due time
    missed: bool  # a due run was too old and was dropped


def plan_run(
    spec: CronSpec,
    time_zone: str,
    due: datetime | None,
    now: datetime,
    grace: timedelta = DEFAULT_GRACE,
) -> RunPlan:
    """What a due check at ``now`` does with a reminder whose next run is ``due``.

    Not yet due: nothing. Due within the grace window: post once. Older: drop it. Either way
    the next run is the first fire time after ``now``, so missed ticks never pile up.
    """
    if due is None:
        return RunPlan(False, next_fire(spec, time_zone, now), False)
    if due > now:
        return RunPlan(False, due, False)
    fresh = now - due <= grace
    return RunPlan(fresh, next_fire(spec, time_zone, now), not fresh)
