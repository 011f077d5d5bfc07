"""At start, in single-token mode: resume a workspace whose bot token works again after an
``app_uninstalled`` stopped it (bot.slack.workspaces.resume_token_workspace)."""

from __future__ import annotations

from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger

from bot.app.runtime import Runtime
from bot.slack.workspaces import resume_token_workspace


def register(scheduler: AsyncIOScheduler, runtime: Runtime) -> None:
    if runtime.database is None or runtime.settings.oauth_enabled:
        return
    scheduler.add_job(
        resume_token_workspace,
        DateTrigger(datetime.now(UTC), timezone=UTC),
        args=[runtime],
        id="installs.resume",
        replace_existing=True,
    )
