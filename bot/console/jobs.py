"""``tick``: every background job, run once now, on the console's runtime.

The jobs are not listed here: they are read from the scheduler ``serve`` runs
(``bot.jobs.background.build_background``, never started), so the console runs exactly the
functions, arguments and order that each part registers there — a part adding a job adds it
to ``tick`` too. A job only does what is due now (a reminder set for 09:00 waits for 09:00),
except the watch's polls: ``tick`` makes every tenant's poll due first, so what changed in DNS
shows at this ``tick``, not after the poll interval.
"""

from __future__ import annotations

import inspect
import logging

from bot.console.session import ConsoleError, ConsoleSession
from bot.jobs.background import build_background
from bot.watch.due import make_all_due

log = logging.getLogger(__name__)


async def tick(session: ConsoleSession) -> None:
    if session.runtime is None:
        raise ConsoleError("The session has not started.")
    jobs = build_background(session.runtime).scheduler.apscheduler.get_jobs()
    if not jobs:
        raise ConsoleError("No background jobs are registered.")
    if session.runtime.database is not None:
        await make_all_due(session.runtime.database.sessionmaker)
    style = session.style
    session.emit(style.dim("(tick: " + ", ".join(job.id for job in jobs) + ")"))
    for job in jobs:
        try:
            result = job.func(*job.args, **job.kwargs)
            if inspect.isawaitable(result):
                await result
        except Exception as exc:  # one failing job must not stop the others, nor the shell
            log.exception("job %s failed", job.id)
            session.emit(style.bold(f"(job {job.id} failed: {exc.__class__.__name__}: {exc})"))
        # What a job started (posts through the Web API) shows before the next job runs.
        await session.settle()
