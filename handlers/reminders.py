"""`/transition remind weekdays 09:00 | daily 16:30 | cron "0 9 * * 1-5" | off` and
`/transition reminders` (the list)."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp
from slack_bolt.kwargs_injection.async_args import AsyncArgs

from bot.app.runtime import Runtime
from bot.blocks.tenants import reminders_text
from bot.blocks.times import short
from bot.core.commands import split_command
from bot.core.reminders import USAGE
from bot.services import reminders
from bot.services.common import Refusal
from handlers.commands import word
from handlers.guard import listener
from handlers.replies import caller_from


def register(app: AsyncApp, runtime: Runtime) -> None:
    word(app, "remind")(listener(runtime, on_remind))
    word(app, "reminders")(listener(runtime, on_reminders))


async def on_remind(args: AsyncArgs, runtime: Runtime) -> None:
    _, rest = split_command(str(args.body.get("text", "")))
    caller = caller_from(args.body)
    if not rest:
        raise Refusal("When should I remind this channel?", USAGE, code="bad-schedule")
    if rest.lower() == "off":
        count = await reminders.reminders_off(runtime.db.uow(), caller)
        text = f"Reminders off ({count} removed)." if count else "There were no reminders."
        await args.ack(text=text, response_type="in_channel")
        return
    reminder = await reminders.set_reminder(runtime.db.uow(), caller, rest)
    when = short(reminder.next_run, reminder.time_zone)
    await args.ack(
        text=f":alarm_clock: Reminder set: `{reminder.schedule}` ({reminder.time_zone}); "
        f"next {when}. The open steps will be posted here.",
        response_type="in_channel",
    )


async def on_reminders(args: AsyncArgs, runtime: Runtime) -> None:
    views = await reminders.list_reminders(runtime.db.uow(), caller_from(args.body))
    await args.ack(text=reminders_text(views))
