"""Reminders: set / list / turn off per tenant, and claim the due ones for the job.

Schedules are parsed by bot.core.reminders (pure); the next due time is stored in UTC, so a restart
finds every reminder where it was, and the catch-up rule (post once if within grace) is
applied when the job claims them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.core.clock import now_or_utcnow, utcnow
from bot.core.reminders import (
    DEFAULT_GRACE,
    CronSpec,
    ScheduleError,
    next_fire,
    parse_schedule,
    plan_run,
    same_times,
)
from bot.outbox.enqueue import Post, enqueue
from bot.services.common import Caller, Refusal, record, tenant_here
from bot.services.tenants import load_status
from bot.services.views import TenantStatus
from storage.models import Reminder
from storage.uow import UnitOfWork

REMINDER_KIND = "reminder"
# A reminder's message: (text, blocks). The job passes its Block Kit renderer.
Render = Callable[["DueReminder"], tuple[str, list[dict[str, Any]]]]


@dataclass(frozen=True)
class ReminderView:
    id: int
    tenant_id: int
    schedule: str
    time_zone: str
    next_run: datetime | None
    last_run: datetime | None
    created_by: str


def _spec(r: Reminder) -> CronSpec:
    return CronSpec(r.schedule, r.minute, r.hour, r.day, r.month, r.day_of_week)


def _view(r: Reminder) -> ReminderView:
    return ReminderView(
        r.id, r.tenant_id, r.schedule, r.time_zone, r.next_run, r.last_run, r.created_by
    )


async def set_reminder(
    uow: UnitOfWork, caller: Caller, text: str, now: datetime | None = None
) -> ReminderView:
    """Add a schedule to the tenant of the caller's channel. A schedule that fires at the
    same times as one the tenant has (the same text, or ``cron "0 9 * * 1-5"`` beside
    ``weekdays 09:00``) is refused, naming it: two would post every reminder twice."""
    at = now_or_utcnow(now)
    try:
        spec = parse_schedule(text)
    except ScheduleError as exc:
        raise Refusal(str(exc), code="bad-schedule") from None
    async with uow:
        tenant = await tenant_here(uow, caller, for_update=True)
        for existing in await uow.reminders.for_tenant(tenant.id):
            if existing.schedule == spec.text or same_times(_spec(existing), spec):
                raise Refusal(
                    f"This channel already has a reminder at those times: "
                    f"`{existing.schedule}`. Nothing changed.",
                    "`/transition reminders` lists them; `/transition remind off` removes "
                    "them, to set others.",
                    code="duplicate-reminder",
                )
        reminder = Reminder(
            tenant_id=tenant.id,
            schedule=spec.text,
            minute=spec.minute,
            hour=spec.hour,
            day=spec.day,
            month=spec.month,
            day_of_week=spec.day_of_week,
            time_zone=tenant.time_zone,
            next_run=next_fire(spec, tenant.time_zone, at),
            created_by=caller.user_id,
            created_at=at,
        )
        uow.reminders.add(reminder)
        record(uow, tenant, caller.user_id, "reminder.set", at, schedule=spec.text)
        await uow.commit()
        return _view(reminder)


async def reminders_off(uow: UnitOfWork, caller: Caller, now: datetime | None = None) -> int:
    """Remove every reminder of the caller's channel's tenant; how many there were."""
    at = now_or_utcnow(now)
    async with uow:
        tenant = await tenant_here(uow, caller, for_update=True)
        count = await uow.reminders.delete_for_tenant(tenant.id)
        if count:
            record(uow, tenant, caller.user_id, "reminder.off", at, removed=count)
        await uow.commit()
        return count


async def list_reminders(uow: UnitOfWork, caller: Caller) -> list[ReminderView]:
    async with uow:
        tenant = await tenant_here(uow, caller)
        return [_view(r) for r in await uow.reminders.for_tenant(tenant.id)]


@dataclass(frozen=True)
class DueReminder:
    reminder: ReminderView
    status: TenantStatus
    fire_time: datetime  # the scheduled time being posted (aware UTC)

    @property
    def outbox_key(self) -> str:
        """One post per reminder and scheduled time, however many replicas claim it."""
        return f"reminder:{self.reminder.id}:{self.fire_time.astimezone(UTC).isoformat()}"


def _plain(due: DueReminder) -> tuple[str, list[dict[str, Any]]]:
    return f"Reminder for {due.status.tenant.name}: `/transition status` shows the open steps", []


async def claim_due(
    uow: UnitOfWork,
    now: datetime | None = None,
    grace: timedelta = DEFAULT_GRACE,
    *,
    render: Render = _plain,
    held: tuple[str, datetime] | None = None,
) -> list[DueReminder]:
    """Claim every reminder due at ``now``: advance its next run past ``now`` and, in the
    same transaction, write its post to the outbox (key ``DueReminder.outbox_key``, due now,
    leased to ``held=(replica, until)`` when given, so that the claiming job completes it
    first); returns the claimed ones (due within ``grace``; older ones are dropped, once).

    The outbox sender delivers the row with retries, so a crash, a cancelled job or a Slack
    error after this commit delays the post instead of losing it; the unique key and
    ``SKIP LOCKED`` on PostgreSQL keep it to one post with several replicas.
    """
    at = now_or_utcnow(now)
    written = utcnow()
    out: list[DueReminder] = []
    async with uow:
        for reminder in await uow.reminders.due(at):
            due = reminder.next_run
            plan = plan_run(_spec(reminder), reminder.time_zone, due, at, grace)
            reminder.next_run = plan.next_run
            if not plan.post or due is None:
                continue
            reminder.last_run = at
            tenant = await uow.tenants.get_any(reminder.tenant_id)
            if tenant is None:
                continue
            item = DueReminder(_view(reminder), await load_status(uow, tenant), due)
            text, blocks = render(item)
            inserted = await enqueue(
                uow,
                Post(
                    key=item.outbox_key,
                    tenant_id=tenant.id,
                    channel_id=tenant.channel_id,
                    kind=REMINDER_KIND,
                    text=text,
                    blocks=blocks,
                ),
                written,
                held=held,
            )
            if inserted:
                out.append(item)
        await uow.commit()
    return out
