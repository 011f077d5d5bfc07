"""Whether the database can be reached: the one rule that tells an outage from a bug, and the
state a process keeps about it.

``is_unreachable(exc)`` is true for what a stopped, restarting or failed-over server raises
(refused or reset connections, a name that no longer resolves, PostgreSQL's "shutting down",
a pool or connect timeout), wherever SQLAlchemy or the driver surfaces it; false for everything
else (a constraint, a bug), which must still be seen as a failure with its traceback.

``Reachability`` is kept per ``Database``: the jobs ask it whether to try now (capped
exponential backoff while the database is away), tell it how each try went, and it logs one
line when the state changes ("database unreachable", "database back") instead of a traceback
per attempt. Only what runs the jobs' own path tells it "back" (a tick that went through):
``/healthz`` probes with a bare ``SELECT 1`` of its own (``Database.ping``), which answers
during a lock-only hang that every job still runs into.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import exc as sa_exc

log = logging.getLogger("transition_bot.database")

# Where a raw OSError or TimeoutError must come from to be the database's: its driver or pool.
_DATABASE_CODE = ("/sqlalchemy/", "/asyncpg/", "/aiosqlite/", "/sqlite3/")
# SQLSTATE classes of a server that is not there: 08 connection exception, 57P operator
# intervention (admin/crash shutdown, cannot connect now), 53300 too many connections.
_UNREACHABLE_STATES = ("08", "57P", "53300")


def _from_database_code(error: BaseException) -> bool:
    tb = error.__traceback__
    while tb is not None:
        if any(part in tb.tb_frame.f_code.co_filename for part in _DATABASE_CODE):
            return True
        tb = tb.tb_next
    return False


def _one_unreachable(error: BaseException) -> bool:
    if isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated:
        return True
    if isinstance(error, sa_exc.TimeoutError | sa_exc.DisconnectionError):
        return True  # the pool's checkout timed out / a connection went away
    state = getattr(error, "sqlstate", None) or getattr(
        getattr(error, "orig", None), "sqlstate", None
    )
    if isinstance(state, str) and state.startswith(_UNREACHABLE_STATES):
        return True
    if isinstance(error, sa_exc.InterfaceError):
        return True  # the driver's connection is closed or unusable
    if isinstance(error, sa_exc.OperationalError):
        text = str(error.orig or error).lower()
        return not any(word in text for word in ("no such", "syntax error"))
    if isinstance(error, OSError | TimeoutError):
        return _from_database_code(error)
    return False


def is_unreachable(error: BaseException) -> bool:
    """True when ``error`` (or what caused it) says the database server cannot be reached."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen and len(seen) < 8:
        seen.add(id(current))
        if _one_unreachable(current):
            return True
        current = current.__cause__ or current.__context__
    return False


@dataclass
class Reachability:
    """The database's state as this process last saw it, and when the jobs may try again."""

    first_wait: float = 0.5
    max_wait: float = 15.0  # the cap: a job tries at least this often while it is away
    clock: Callable[[], float] = time.monotonic
    down_since: float | None = None
    failures: int = 0
    next_try: float = 0.0

    @property
    def reachable(self) -> bool:
        return self.down_since is None

    def may_try(self) -> bool:
        """Whether a job should touch the database now (always, unless it is away and the
        backoff has not run out)."""
        return self.down_since is None or self.clock() >= self.next_try

    def wait(self) -> float:
        """The current backoff: doubles with each failed try, up to ``max_wait``."""
        return min(self.max_wait, self.first_wait * 2 ** max(0, self.failures - 1))

    def failed(self, error: BaseException) -> None:
        now = self.clock()
        self.failures += 1
        if self.down_since is None:
            self.down_since = now
            log.warning("database unreachable (%s); retrying with backoff", _describe(error))
        self.next_try = now + self.wait()

    def succeeded(self) -> None:
        if self.down_since is not None:
            log.warning("database back after %.1f s", self.clock() - self.down_since)
        self.down_since = None
        self.failures = 0
        self.next_try = 0.0


def _describe(error: BaseException) -> str:
    """One short line: the type and the first line of the message, no traceback."""
    text = str(getattr(error, "orig", None) or error).strip().splitlines()
    return f"{type(error).__name__}: {text[0][:160]}" if text else type(error).__name__
