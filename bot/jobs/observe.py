"""Metrics of the background work, as thin wrappers around what bot.jobs schedules:

- ``observe_lag(scheduler)``: how late each job run starts compared with when it was due
  (APScheduler's submission and missed-run events);
- ``counted_polls(tick)``: each tick's polls by outcome;
- ``with_outbox_depth(tick, sessionmaker)``: after each delivery tick, the pending rows and
  the age of the oldest (computed when scraped, so it keeps growing while the jobs cannot
  look: a database or Slack outage shows as a rising age).

Announcements sent and failed are counted where they are settled (bot.watch.sender).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from apscheduler.events import (
    EVENT_JOB_MISSED,
    EVENT_JOB_SUBMITTED,
    JobEvent,
    JobSubmissionEvent,
)
from apscheduler.schedulers.base import BaseScheduler
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.ops import metrics
from bot.watch.poller import PollResult
from storage.uow import UnitOfWork


def _lag(event: JobEvent) -> None:
    due: list[datetime] = []
    if isinstance(event, JobSubmissionEvent):
        due = list(event.scheduled_run_times)
    elif getattr(event, "scheduled_run_time", None) is not None:
        due = [event.scheduled_run_time]
    if due:
        late = (datetime.now(UTC) - max(due)).total_seconds()
        metrics.SCHEDULER_LAG.observe(max(0.0, late))


def observe_lag(scheduler: BaseScheduler) -> None:
    scheduler.add_listener(_lag, EVENT_JOB_SUBMITTED | EVENT_JOB_MISSED)


def poll_outcome(result: PollResult) -> str:
    """A small fixed set of labels (errors carry free text: not a label)."""
    if result.error in ("stale", "timeout", "tenant gone"):
        return str(result.error).replace(" ", "_")
    if result.error:
        return "error"
    return "ok" if result.stored else "not_stored"


def counted_polls(
    tick: Callable[[], Awaitable[list[PollResult]]],
) -> Callable[[], Awaitable[list[PollResult]]]:
    async def run() -> list[PollResult]:
        results = await tick()
        for result in results:
            metrics.POLLS.labels(outcome=poll_outcome(result)).inc()
        return results

    run.__qualname__ = getattr(tick, "__qualname__", "poll")
    return run


class OldestAge:
    """The outbox's oldest pending row, as last seen; its age is read at scrape time."""

    def __init__(self) -> None:
        self.oldest: datetime | None = None

    def seconds(self) -> float:
        if self.oldest is None:
            return 0.0
        oldest = self.oldest if self.oldest.tzinfo else self.oldest.replace(tzinfo=UTC)
        return max(0.0, (datetime.now(UTC) - oldest).total_seconds())


OLDEST = OldestAge()
metrics.OUTBOX_OLDEST_AGE.set_function(OLDEST.seconds)


def with_outbox_depth(
    tick: Callable[[], Awaitable[int]], sessionmaker: async_sessionmaker[AsyncSession]
) -> Callable[[], Awaitable[int]]:
    async def run() -> int:
        delivered = await tick()
        async with UnitOfWork(sessionmaker) as uow:
            depth, OLDEST.oldest = await uow.outbox.backlog()
        metrics.OUTBOX_DEPTH.set(depth)
        return delivered

    run.__qualname__ = getattr(tick, "__qualname__", "send")
    return run
