"""The reminder job: every minute (and once at start, for catch-up), post the reminders that
are due with the tenant's open steps and their owners.

``run_reminders(runtime, now)`` is the whole job and takes ``now``, so tests drive it with a
fixed time instead of waiting.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks.tenants import reminder_post
from bot.reminders import DEFAULT_GRACE
from bot.runbook import Status, StepId
from bot.runtime import Runtime
from bot.services.reminders import DueReminder, claim_due
from bot.workspaces import client_for_tenant

log = logging.getLogger(__name__)


def register(scheduler: AsyncIOScheduler, runtime: Runtime) -> None:
    if runtime.database is None:
        return
    scheduler.add_job(
        run_reminders,
        CronTrigger(second=0, timezone=UTC),
        args=[runtime],
        id="reminders",
        next_run_time=datetime.now(UTC),  # catch up once at start
        replace_existing=True,
    )


async def run_reminders(
    runtime: Runtime,
    now: datetime | None = None,
    grace: timedelta = DEFAULT_GRACE,
    client: AsyncWebClient | None = None,
) -> int:
    """Claim the due reminders and post them; how many were posted."""
    due = await claim_due(runtime.db.uow(), now, grace)
    if not due:
        return 0
    # Each workspace's own token (refreshed if it expires soon) and its own bot user.
    bots: dict[int, tuple[AsyncWebClient | None, str | None]] = {}
    posted = 0
    for item in due:
        workspace = item.status.tenant.workspace_id
        if workspace not in bots:
            found = client or await client_for_tenant(runtime, item.status.tenant.id)
            bots[workspace] = (found, None if found is None else await _bot_user(found))
        item_client, bot_user = bots[workspace]
        if item_client is None:  # uninstalled meanwhile (bot.workspaces)
            continue
        try:
            await _post(item_client, item, bot_user)
            posted += 1
        except SlackApiError as exc:
            log.warning(
                "reminder %s for tenant %s not posted: %s",
                item.reminder.id,
                item.status.tenant.id,
                exc.response.data
                if isinstance(exc.response.data, str)
                else exc.response.get("error"),
            )
    return posted


async def _bot_user(client: AsyncWebClient) -> str | None:
    try:
        return str((await client.auth_test()).get("user_id") or "") or None
    except SlackApiError:
        return None


async def _post(client: AsyncWebClient, item: DueReminder, bot_user: str | None) -> None:
    channel = item.status.tenant.channel_id
    not_acked: list[str] | None = None
    if item.status.step(StepId.PASSWORDS).status is Status.OPEN:
        try:
            response = await client.api_call(
                "conversations.members", params={"channel": channel, "limit": 1000}
            )
            members = [str(m) for m in response.get("members") or [] if m != bot_user]
            not_acked = [m for m in members if m not in item.status.acked_users]
        except SlackApiError:
            not_acked = None
    text, blocks = reminder_post(item, not_acked)
    await client.chat_postMessage(channel=channel, text=text, blocks=blocks)
