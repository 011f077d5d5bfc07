"""Graceful shutdown of a replica (SIGTERM from the orchestrator, Ctrl-C, socket mode's stop).

aiohttp runs, in order: stop listening; ``on_shutdown`` (here: ``stop_taking_work``, which
closes the gate so any request still arriving on an open connection gets 503, and pauses the
scheduler so no job starts); wait for requests in flight; then the cleanup contexts in reverse
(here ``graceful_context``'s teardown runs before the background jobs' and the database's):

1. wait a little for the jobs already running (a poll, a delivery), the delivery a poll woke
   and the work listeners do after their ack, each held by whatever started it (the
   scheduler's runs, the watch's waker, bot.slack.listener_tasks); cancel what is still
   running (its transaction rolls back);
2. release every lease this replica holds (polls and outbox rows), so another replica takes
   that work at once instead of after the lease expires;
3. flush the outbox: deliver what is due now, within a budget; release again.

The budgets add up to well under 10 s with ``transition-bot serve``'s 2 s for requests.
A delivery cut off mid-call is safe: the sender marks the attempt before the call and checks
the channel's history before posting such a row again (bot.watch.sender).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.pool import AsyncAdaptedQueuePool, NullPool

from bot.app.runtime import Runtime
from bot.jobs.background import SCHEDULER, WATCH
from bot.jobs.watch import Watch
from bot.slack.http_guard import GATE
from bot.slack.listener_tasks import LISTENER_TASKS
from storage.uow import UnitOfWork

log = logging.getLogger(__name__)

HTTP_SECONDS = 2.0  # requests in flight (aiohttp's shutdown_timeout, set by serve)
JOBS_SECONDS = 2.5  # running jobs and post-ack listener work (then cancelled: 1 s more)
FLUSH_SECONDS = 2.0  # delivering what is due
# Each lease release; a database that went away (or hangs) must not hold the exit past 10 s.
RELEASE_SECONDS = 1.0
CANCEL_SECONDS = 1.0  # for cancelled jobs to unwind
# The longest a SIGTERM can take, from the gate closing to the exit: an orchestrator's grace
# period must be longer (deploy/deployment.yaml; a test holds it to this).
SHUTDOWN_BUDGET_SECONDS = (
    HTTP_SECONDS + JOBS_SECONDS + CANCEL_SECONDS + RELEASE_SECONDS + FLUSH_SECONDS + RELEASE_SECONDS
)


@dataclass(frozen=True)
class Released:
    polls: int
    outbox: int


async def stop_taking_work(app: web.Application) -> None:
    """aiohttp ``on_shutdown``: refuse new Slack work, start no new job."""
    gate = app.get(GATE)
    if gate is not None:
        gate.close()
    scheduler = app.get(SCHEDULER)
    if scheduler is not None:
        await scheduler.pause()


def graceful_context(runtime: Runtime) -> Callable[[web.Application], AsyncIterator[None]]:
    """An aiohttp ``cleanup_ctx`` whose teardown finishes the replica's work (see above)."""

    async def graceful(app: web.Application) -> AsyncIterator[None]:
        yield
        await finish_work(app, runtime.db.sessionmaker)

    return graceful


async def finish_work(app: web.Application, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    started = time.monotonic()
    await stop_taking_work(app)
    scheduler = app.get(SCHEDULER)
    if scheduler is None:
        return
    watch = app.get(WATCH)
    listeners = app.get(LISTENER_TASKS)

    def running() -> set[asyncio.Task[Any]]:
        return (
            scheduler.runs.running()
            | (watch.waker.running() if watch is not None else set())
            | (listeners.running() if listeners is not None else set())
        )

    await _finish_or_cancel(running, JOBS_SECONDS)
    if watch is None:
        return
    replica = watch.sender.options.replica_id
    first = await _release_or_log(sessionmaker, replica)
    delivered = await flush_outbox(watch, sessionmaker, FLUSH_SECONDS)
    again = await _release_or_log(sessionmaker, replica)
    log.info(
        "shutdown: released %d poll and %d outbox leases, delivered %d due announcements, "
        "in %.1f s",
        first.polls + again.polls,
        first.outbox + again.outbox,
        delivered,
        time.monotonic() - started,
    )


async def _finish_or_cancel(running: Callable[[], set[asyncio.Task[Any]]], seconds: float) -> None:
    """Wait for what runs, including what it starts meanwhile (a poll that stored news
    nudges a delivery); cancel whatever is left after ``seconds``."""
    deadline = time.monotonic() + seconds
    late = running()
    while late and time.monotonic() < deadline:
        await asyncio.wait(late, timeout=deadline - time.monotonic())
        late = running()
    if not late:
        return
    log.warning("shutdown: cancelling %d unfinished jobs or follow-ups", len(late))
    with _quiet_cancellation():
        for future in late:
            future.cancel()
        await asyncio.wait(late, timeout=CANCEL_SECONDS)


class _QuietCancellation(logging.Filter):
    """A job we cancel is logged by APScheduler as a failure, and a database connection closed
    mid-cancel by SQLAlchemy's pool, each with a traceback; the warning above said it already."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], asyncio.CancelledError))


# the loggers that report a cancellation we caused as an error (a pool logs under its class's
# own name, and a filter on a parent logger never sees a child's records)
_CANCELLATION_LOGGERS = (
    "apscheduler.executors.default",
    *(f"{pool.__module__}.{pool.__name__}" for pool in (AsyncAdaptedQueuePool, NullPool)),
)


@contextlib.contextmanager
def _quiet_cancellation() -> Iterator[None]:
    quiet = _QuietCancellation()
    loggers = [logging.getLogger(name) for name in _CANCELLATION_LOGGERS]
    for logger in loggers:
        logger.addFilter(quiet)
    try:
        yield
    finally:
        for logger in loggers:
            logger.removeFilter(quiet)


async def _release_or_log(sessionmaker: async_sessionmaker[AsyncSession], replica: str) -> Released:
    """``release_leases`` within ``RELEASE_SECONDS``; an unreachable database is logged, not
    raised: the process still exits, and the leases expire by themselves."""
    try:
        return await asyncio.wait_for(release_leases(sessionmaker, replica), RELEASE_SECONDS)
    except Exception as error:  # any database failure: the exit must go on
        log.warning(
            "shutdown: could not release leases (%s); they expire by themselves",
            type(error).__name__,
        )
        return Released(0, 0)


async def release_leases(sessionmaker: async_sessionmaker[AsyncSession], replica: str) -> Released:
    """Give back every poll and outbox lease ``replica`` holds."""
    async with UnitOfWork(sessionmaker) as uow:
        polls = await uow.polls.release_held_by(replica)
        outbox = await uow.outbox.release_held_by(replica)
        await uow.commit()
    return Released(polls, outbox)


async def due_now(sessionmaker: async_sessionmaker[AsyncSession]) -> int:
    """Rows a sender could deliver now, with the claim's own filters: not those of an
    uninstalled workspace nor those another replica holds, which flushing would wait for in
    vain until its budget ran out."""
    async with UnitOfWork(sessionmaker) as uow:
        return await uow.outbox.count_claimable(datetime.now(UTC))


async def flush_outbox(
    watch: Watch, sessionmaker: async_sessionmaker[AsyncSession], seconds: float
) -> int:
    """Deliver the announcements due now, until none is left or ``seconds`` have passed."""
    deadline = time.monotonic() + seconds
    delivered = 0

    async def run() -> None:
        nonlocal delivered
        while await due_now(sessionmaker):
            sent = await watch.sender.run_once()  # 0 while a nudged delivery holds the lock
            delivered += sent
            if not sent:
                await asyncio.sleep(0.05)

    try:
        with _quiet_cancellation():
            await asyncio.wait_for(run(), max(0.0, deadline - time.monotonic()))
    except TimeoutError:
        log.warning("shutdown: outbox not flushed in %.1f s; another replica delivers", seconds)
    except Exception as error:  # e.g. the database went away: exit anyway
        log.warning(
            "shutdown: outbox not flushed (%s); another replica delivers", type(error).__name__
        )
    return delivered
