"""Every part's background jobs on the process's one scheduler, and their life in the aiohttp
application: started with the server, kept under typed keys while it runs, stopped at shutdown
(as in aiohttp's background-tasks example).

A part's jobs are one ``register(scheduler, runtime)`` call in ``build_background``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from aiohttp import web

from bot.app.runtime import Runtime
from bot.jobs import installs, reminders, watch
from bot.jobs.scheduler import Scheduler, new_scheduler
from bot.jobs.watch import Watch

SCHEDULER = web.AppKey("scheduler", Scheduler)
WATCH = web.AppKey("watch", Watch)  # only with a database


@dataclass(frozen=True)
class Background:
    scheduler: Scheduler
    watch: Watch | None  # the poller and sender the watch's jobs run


def build_background(runtime: Runtime) -> Background:
    """A scheduler with every part's jobs added (not started: that needs the running loop)."""
    scheduler = new_scheduler()
    reminders.register(scheduler, runtime)
    found = watch.register(scheduler, runtime)
    installs.register(scheduler, runtime)
    return Background(scheduler, found)


def background_context(runtime: Runtime) -> Callable[[web.Application], AsyncIterator[None]]:
    """An aiohttp ``cleanup_ctx``: start the jobs with the server, stop them at shutdown."""

    async def background(app: web.Application) -> AsyncIterator[None]:
        built = build_background(runtime)
        app[SCHEDULER] = built.scheduler
        if built.watch is not None:
            app[WATCH] = built.watch
        built.scheduler.apscheduler.start()
        try:
            yield
        finally:
            await built.scheduler.pause_and_drain()  # no new runs; let the running ones finish
            built.scheduler.apscheduler.shutdown(wait=False)

    return background
