"""Times for people: in the tenant's time zone, with the zone's abbreviation (CET / CEST)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def local(dt: datetime, time_zone: str) -> datetime:
    try:
        return dt.astimezone(ZoneInfo(time_zone))
    except (ZoneInfoNotFoundError, ValueError):
        return dt


def short(dt: datetime | None, time_zone: str) -> str:
    """``"Mon 30 Mar 09:00 CEST"``."""
    if dt is None:
        return ""
    value = local(dt, time_zone)
    return f"{value:%a} {value.day} {value:%b %H:%M} {value.tzname() or ''}".rstrip()
