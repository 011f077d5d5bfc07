"""The watch's jobs on the shared scheduler."""

from __future__ import annotations

import asyncio
import inspect
from datetime import UTC, datetime

from apscheduler.triggers.date import DateTrigger

from bot.app.runtime import Runtime
from bot.jobs.background import build_background
from bot.jobs.scheduler import new_scheduler
from bot.jobs.watch import lease_seconds, limited, poll_tick_seconds
from bot.ops.config import load_settings
from storage.database import Database


async def test_jobs_are_registered_as_coroutines(database_url: str) -> None:
    """APScheduler runs only coroutine functions on the event loop (anything else goes to a
    thread, where an async tick would never be awaited)."""
    settings = load_settings(
        {"SLACK_BOT_TOKEN": "xoxb-x", "DATABASE_URL": database_url}, dotenv=False
    )
    db = Database(database_url)
    try:
        scheduler = build_background(Runtime(settings=settings, database=db)).scheduler
        jobs = {job.id: job for job in scheduler.apscheduler.get_jobs()}
        assert {"watch.poll", "watch.send"} <= set(jobs)
        for job_id in ("watch.poll", "watch.send"):
            assert inspect.iscoroutinefunction(jobs[job_id].func)
    finally:
        await db.dispose()


async def test_limited_returns_at_once_beyond_its_limit() -> None:
    gate = asyncio.Event()
    started = 0

    async def tick() -> None:
        nonlocal started
        started += 1
        await gate.wait()

    run = limited(tick, 2)
    first, second = asyncio.create_task(run()), asyncio.create_task(run())
    await asyncio.sleep(0)
    await asyncio.wait_for(run(), 1)  # a third returns at once
    assert started == 2
    gate.set()
    await asyncio.gather(first, second)
    await asyncio.wait_for(run(), 1)
    assert started == 3


def test_intervals_follow_the_settings() -> None:
    fast = load_settings({"TRANSITION_FAST_POLL_SECONDS": "30"}, dotenv=False)
    assert poll_tick_seconds(fast) == 5.0 and lease_seconds(fast) == 60.0
    quick = load_settings({"TRANSITION_FAST_POLL_SECONDS": "1"}, dotenv=False)
    assert poll_tick_seconds(quick) == 0.25 and lease_seconds(quick) == 20.0


async def test_a_run_under_way_is_held_by_reference_until_it_ends() -> None:
    """What a shutdown waits for: the task of each run, from the scheduler that started it."""
    scheduler = new_scheduler()
    started, may_end = asyncio.Event(), asyncio.Event()

    async def job() -> None:
        started.set()
        await may_end.wait()

    scheduler.add_job(job, DateTrigger(datetime.now(UTC), timezone=UTC), id="held")
    scheduler.apscheduler.start()
    try:
        await asyncio.wait_for(started.wait(), 30)
        (run,) = scheduler.runs.running()
        draining = asyncio.create_task(scheduler.pause_and_drain())  # waits for the run
        may_end.set()
        await asyncio.wait_for(draining, 30)
        assert run.done() and scheduler.runs.running() == set()
    finally:
        scheduler.apscheduler.shutdown(wait=False)
