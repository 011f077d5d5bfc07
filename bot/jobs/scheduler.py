"""The process's one APScheduler ``AsyncIOScheduler``, with the runs under way held by reference.

Jobs persist nothing in APScheduler: what is due lives in our tables (reminders.next_run, the
watch's polls), so the scheduler only ticks. Each part adds its jobs with a ``register(scheduler,
runtime)`` of its own, called by bot.jobs.background, so every part shares one scheduler.
"""

from __future__ import annotations

import asyncio
import functools
import os
import socket
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any, ParamSpec, TypeVar

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.jobs.observe import observe_lag

P = ParamSpec("P")
T = TypeVar("T")

# How long a teardown waits for running jobs (a claimed reminder should still get posted).
DRAIN_SECONDS = 10.0


def replica_id() -> str:
    """Who holds a lease: host, process and a random part (pids repeat across containers)."""
    return f"{socket.gethostname()[:32]}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


class JobRuns:
    """The tasks running a job now. Each job function is wrapped so that its run holds its own
    task here while it runs; a shutdown waits for them (APScheduler's executor can only cancel
    them, and a job cancelled mid-query would leave the database engine disposed under it)."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()

    def track(
        self, job: Callable[P, Coroutine[Any, Any, T]]
    ) -> Callable[P, Coroutine[Any, Any, T]]:
        @functools.wraps(job)  # APScheduler names the job after it in its log lines
        async def run(*args: P.args, **kwargs: P.kwargs) -> T:
            task = asyncio.current_task()
            if task is None:  # driven by hand, not by the event loop: nothing to wait for
                return await job(*args, **kwargs)
            self._tasks.add(task)
            try:
                return await job(*args, **kwargs)
            finally:
                self._tasks.discard(task)

        return run

    def running(self) -> set[asyncio.Task[Any]]:
        return {task for task in self._tasks if not task.done()}


@dataclass(frozen=True)
class Scheduler:
    """APScheduler's scheduler, the runs under way, and the one lease holder name of
    everything its jobs claim (polls, outbox rows, reminders), so that a shutdown gives all
    of it back (bot.jobs.shutdown)."""

    apscheduler: AsyncIOScheduler
    replica: str = field(default_factory=replica_id)
    runs: JobRuns = field(default_factory=JobRuns)

    def add_job(
        self, job: Callable[..., Coroutine[Any, Any, object]], trigger: Any, **options: Any
    ) -> None:
        """``AsyncIOScheduler.add_job``, with the job's runs held in ``runs``."""
        self.apscheduler.add_job(self.runs.track(job), trigger, **options)

    async def pause(self) -> None:
        """Start no new run. A run submitted just before holds its task from its first step
        on: the one yield here lets it take that step, so ``runs`` has it afterwards."""
        if self.apscheduler.running:
            self.apscheduler.pause()
        await asyncio.sleep(0)

    async def pause_and_drain(self, seconds: float = DRAIN_SECONDS) -> None:
        """Start no new run, and wait (up to ``seconds``) for the runs already under way, such
        as the reminders' catch-up that a scheduler submits as soon as it starts."""
        await self.pause()
        running = self.runs.running()
        if running:
            await asyncio.wait(running, timeout=seconds)


def new_scheduler() -> Scheduler:
    """A scheduler with no jobs yet (not started: ``start()`` needs the running event loop)."""
    apscheduler = AsyncIOScheduler(
        timezone=UTC,
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 30},
    )
    observe_lag(apscheduler)  # transition_scheduler_lag_seconds
    return Scheduler(apscheduler)
