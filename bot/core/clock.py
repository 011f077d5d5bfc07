"""The one clock: aware UTC now. Parts that need time take a ``Clock`` so tests can inject one."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


def now_or_utcnow(now: datetime | None) -> datetime:
    """``now`` when the caller fixed it (tests, a job's tick), else the clock."""
    return now if now is not None else utcnow()
