"""Install life-cycle jobs:

- at start, in single-token mode: resume a workspace whose bot token works again after an
  ``app_uninstalled`` stopped it (bot.slack.workspaces.resume_token_workspace);
- while events are held from a database outage: record them once it is back
  (bot.slack.held_events), under the jobs' backoff.
"""

from __future__ import annotations

from datetime import UTC, datetime

from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.app.runtime import Runtime
from bot.jobs.backoff import while_reachable
from bot.jobs.scheduler import Scheduler
from bot.slack.workspaces import replay_held, resume_token_workspace

REPLAY_SECONDS = 2.0


def register(scheduler: Scheduler, runtime: Runtime) -> None:
    if runtime.database is None:
        return
    replay = while_reachable(lambda: replay_held(runtime), runtime.database)

    async def replay_if_held() -> None:
        # Nothing held: no query, so the backoff hears nothing it did not try.
        if runtime.held_events:
            await replay()

    scheduler.add_job(
        replay_if_held,
        IntervalTrigger(seconds=REPLAY_SECONDS, timezone=UTC),
        id="installs.replay_held",
        replace_existing=True,
    )
    if runtime.settings.oauth_enabled:
        return
    scheduler.add_job(
        resume_token_workspace,
        DateTrigger(datetime.now(UTC), timezone=UTC),
        args=[runtime],
        id="installs.resume",
        replace_existing=True,
    )
