"""The one APScheduler ``AsyncIOScheduler`` of the process, and its start/stop for aiohttp.

Jobs persist nothing in APScheduler: what is due lives in our tables (reminders.next_run, the
watch's polls), so the scheduler only ticks. Each part adds its jobs through a registrar in
``REGISTRARS`` (``"module:function"``, called as ``function(scheduler, runtime)``), so adding a
part's jobs is one line here and both parts share one scheduler.
"""

from __future__ import annotations

import asyncio
import importlib
import os
import socket
import uuid
import weakref
from collections.abc import AsyncIterator, Callable
from datetime import UTC
from typing import Any

from aiohttp import web
from apscheduler.executors.asyncio import AsyncIOExecutor
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.app.runtime import Runtime
from bot.jobs.observe import observe_lag

Registrar = Callable[[AsyncIOScheduler, Runtime], None]

REGISTRARS: list[str] = [
    "bot.jobs.reminders:register",
    "bot.jobs.watch:register",
    "bot.jobs.installs:register",
]

SCHEDULER = web.AppKey("scheduler", AsyncIOScheduler)
# How long shutdown waits for running jobs (a claimed reminder should still get posted).
DRAIN_SECONDS = 10.0


class DrainingExecutor(AsyncIOExecutor):
    """APScheduler's asyncio executor, plus a way to wait for the jobs still running
    (its ``shutdown`` can only cancel them, and a job cancelled mid-query would leave the
    database engine to be disposed under it)."""

    def running(self) -> set[asyncio.Future[Any]]:
        return {f for f in getattr(self, "_pending_futures", set()) if not f.done()}

    async def drain(self, seconds: float) -> None:
        running = self.running()
        if running:
            await asyncio.wait(running, timeout=seconds)


async def pause_and_drain(scheduler: AsyncIOScheduler, seconds: float = DRAIN_SECONDS) -> None:
    """Start no new run, and wait (up to ``seconds``) for the runs already under way, such as
    the reminders' catch-up that a scheduler submits as soon as it starts."""
    scheduler.pause()
    executor = scheduler._lookup_executor("default")
    if isinstance(executor, DrainingExecutor):
        await executor.drain(seconds)


_replicas: weakref.WeakKeyDictionary[AsyncIOScheduler, str] = weakref.WeakKeyDictionary()


def replica_id() -> str:
    """Who holds a lease: host, process and a random part (pids repeat across containers)."""
    return f"{socket.gethostname()[:32]}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


def replica_of(scheduler: AsyncIOScheduler) -> str:
    """The one lease holder name of everything this scheduler's jobs claim (polls, outbox
    rows, reminders), so that a shutdown gives all of it back (bot.jobs.shutdown)."""
    found = _replicas.get(scheduler)
    if found is None:
        found = _replicas[scheduler] = replica_id()
    return found


def build_scheduler(runtime: Runtime, registrars: list[str] | None = None) -> AsyncIOScheduler:
    """A scheduler with every part's jobs added (not started: ``scheduler.start()`` needs the
    running event loop)."""
    scheduler = AsyncIOScheduler(
        timezone=UTC,
        executors={"default": DrainingExecutor()},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 30},
    )
    observe_lag(scheduler)  # transition_scheduler_lag_seconds
    for spec in REGISTRARS if registrars is None else registrars:
        module_name, _, func_name = spec.partition(":")
        register: Registrar = getattr(importlib.import_module(module_name), func_name)
        register(scheduler, runtime)
    return scheduler


def scheduler_context(runtime: Runtime) -> Callable[[web.Application], AsyncIterator[None]]:
    """An aiohttp ``cleanup_ctx``: start the scheduler with the server, stop it at shutdown."""

    async def scheduler_lifecycle(app: web.Application) -> AsyncIterator[None]:
        scheduler = build_scheduler(runtime)
        app[SCHEDULER] = scheduler
        scheduler.start()
        try:
            yield
        finally:
            await pause_and_drain(scheduler)  # no new runs; let the running ones finish
            scheduler.shutdown(wait=False)

    return scheduler_lifecycle
