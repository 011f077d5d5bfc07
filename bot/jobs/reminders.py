"""The reminder job: every minute (and once at start, for catch-up), post the reminders that
are due with the tenant's open steps and their owners.

Claiming a reminder writes its post to the watch's outbox in the same transaction
(bot.services.reminders.claim_due), leased to this replica for ``HOLD_SECONDS``; the job then
adds who has not acknowledged the passwords step (a Slack call, outside the transaction) and
delivers the row at once through an outbox sender. Whatever fails after the claim (a crash,
a Slack error) leaves the row to the sender's tick, here or on another replica, once the lease
ends; SIGTERM gives the lease back at once and flushes the row (bot.jobs.shutdown). At least
once, and once only thanks to the row's unique key and the sender's history check.

``run_reminders(runtime, now)`` is the whole job and takes ``now``, so tests drive it with a
fixed time instead of waiting.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.triggers.cron import CronTrigger
from slack_sdk.web.async_client import AsyncWebClient

from bot.app.runtime import Runtime
from bot.blocks.tenants import reminder_post
from bot.core.reminders import DEFAULT_GRACE
from bot.core.runbook import Status, StepId
from bot.jobs.backoff import while_reachable
from bot.jobs.scheduler import Scheduler, replica_id
from bot.jobs.watch import oauth_tokens
from bot.services.reminders import DueReminder, claim_due
from bot.slack.webapi import SlackWebApi
from bot.slack.workspaces import client_for_tenant
from bot.watch.sender import OutboxSender, SenderOptions
from storage.outbox import Rewrite

# How long a claimed reminder's outbox row is leased to this job (which adds the members not yet
# acknowledged and sends it) before any sender may deliver it as it is; a shutdown gives it
# back at once (bot.jobs.shutdown releases every lease of the replica).
HOLD_SECONDS = 15.0

log = logging.getLogger(__name__)


def register(scheduler: Scheduler, runtime: Runtime) -> None:
    if runtime.database is None:
        return
    replica = scheduler.replica
    scheduler.add_job(
        while_reachable(lambda: run_reminders(runtime, replica=replica), runtime.db),
        CronTrigger(second=0, timezone=UTC),
        id="reminders",
        next_run_time=datetime.now(UTC),  # catch up once at start
        replace_existing=True,
    )


async def run_reminders(
    runtime: Runtime,
    now: datetime | None = None,
    grace: timedelta = DEFAULT_GRACE,
    client: AsyncWebClient | None = None,
    replica: str | None = None,
) -> int:
    """Claim the due reminders and post them; how many were posted now (the others are in
    the outbox, delivered by the sender's next run). The claimed rows are leased to
    ``replica`` (the scheduler's, so SIGTERM gives them back at once)."""
    replica = replica or replica_id()
    hold = (replica, datetime.now(UTC) + timedelta(seconds=HOLD_SECONDS))
    due = await claim_due(
        runtime.db.uow(), now, grace, render=lambda item: _render(item, None), held=hold
    )
    if not due:
        return 0
    sender = OutboxSender(
        runtime.db.sessionmaker,
        client or runtime.web_client(),
        SenderOptions(replica_id=replica),
        **({} if client else oauth_tokens(runtime)),
    )
    # Each workspace's own token (refreshed if it expires soon) and its own bot user.
    bots: dict[int, tuple[AsyncWebClient | None, str | None]] = {}
    posted = 0
    for item in due:
        workspace = item.status.tenant.workspace_id
        if workspace not in bots:
            found = client or await client_for_tenant(runtime, item.status.tenant.id)
            bots[workspace] = (
                found,
                None if found is None else await SlackWebApi(found).bot_user_id(),
            )
        item_client, bot_user = bots[workspace]
        if item_client is None:  # uninstalled meanwhile (bot.slack.workspaces): the row waits
            continue
        text, blocks = _render(item, await _not_acked(item_client, item, bot_user))
        posted += await sender.deliver_now(
            item.outbox_key,
            Rewrite(text=text, blocks={"blocks": blocks}, next_attempt_at=datetime.now(UTC)),
        )
    return posted


def _render(item: DueReminder, not_acked: list[str] | None) -> tuple[str, list[dict[str, Any]]]:
    text, blocks = reminder_post(item, not_acked)
    return text, [block.to_dict() for block in blocks]


async def _not_acked(
    client: AsyncWebClient, item: DueReminder, bot_user: str | None
) -> list[str] | None:
    """Members of the channel who have not acknowledged the passwords step (None: unknown)."""
    if item.status.step(StepId.PASSWORDS).status is not Status.OPEN:
        return None
    members = await SlackWebApi(client).channel_members(item.status.tenant.channel_id, bot_user)
    if members is None:
        return None
    return [m for m in members if m not in item.status.acked_users]
