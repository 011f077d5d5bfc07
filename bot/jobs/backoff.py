"""Jobs through a database outage: ``while_reachable(tick, database)`` is the tick, skipped while
the database is away and its backoff runs (capped: storage.health.Reachability), with an
unreachable database's error turned into the one state-change log line instead of a traceback
per run. Any other error still propagates (APScheduler logs it: a bug must be seen)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

from storage.database import Database
from storage.health import is_unreachable

T = TypeVar("T")


def while_reachable(
    tick: Callable[[], Awaitable[T]], database: Database
) -> Callable[[], Coroutine[Any, Any, T | None]]:
    reachability = database.reachability

    async def run() -> T | None:
        if not reachability.may_try():
            return None
        try:
            result = await tick()
        except Exception as error:
            if not is_unreachable(error):
                raise
            reachability.failed(error)
            return None
        reachability.succeeded()
        return result

    run.__name__ = run.__qualname__ = getattr(tick, "__qualname__", "tick")
    return run
