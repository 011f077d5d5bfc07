"""App Home (every tenant of the workspace), history, and reminder messages."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import Block, DividerBlock, HeaderBlock
from slack_sdk.models.views import View

from bot.blocks.common import MAX_BLOCKS, context, escape, pack_sections, section
from bot.blocks.help import usage_text
from bot.blocks.times import short
from bot.core.runbook import Status, StepId
from bot.services.history import HistoryEntry
from bot.services.reminders import DueReminder, ReminderView
from bot.services.tenants import TenantSummary

MAX_HOME_TENANTS = 90


def home_tenants_view(summaries: Sequence[TenantSummary]) -> View:
    blocks: list[Block] = [HeaderBlock(text="Transitions in this workspace")]
    if not summaries:
        blocks.append(section("No transition yet. Start one in a channel:"))
    for summary in summaries[:MAX_HOME_TENANTS]:
        t = summary.tenant
        nxt = summary.next_step
        tail = f"next: *{escape(nxt.title)}*" if nxt else "every step finished :tada:"
        blocks.append(
            section(
                f"*{escape(t.name)}* in <#{t.channel_id}> — {summary.progress} · {tail}\n"
                + ", ".join(escape(d.display) for d in t.domains)
            )
        )
    if len(summaries) > MAX_HOME_TENANTS:
        blocks.append(context(f"…and {len(summaries) - MAX_HOME_TENANTS} more."))
    blocks.extend([DividerBlock(), section(usage_text())])
    return View(type="home", blocks=blocks)


def history_blocks(name: str, entries: Sequence[HistoryEntry], time_zone: str) -> list[Block]:
    lines = []
    for e in entries:
        who = "the bot" if e.actor_id == "bot" else f"<@{e.actor_id}>"
        what = e.action
        step = e.details.get("step")
        if step:
            what += f" `{step}`"
        extra = e.details.get("note") or e.details.get("schedule") or ""
        if extra:
            what += f" — {escape(str(extra))}"
        lines.append(f"{short(e.at, time_zone)} · {who} · {what}")
    header = section(f"*History of {escape(name)}*, newest first:")
    if not lines:
        return [header, section("_Nothing yet._")]
    return [header, *pack_sections(lines, MAX_BLOCKS - 1)]


def history_text(name: str, entries: Sequence[HistoryEntry]) -> str:
    return f"History of {name}: {len(entries)} entries"


def reminders_text(reminders: Sequence[ReminderView]) -> str:
    if not reminders:
        return (
            "No reminders. Add one: `/transition remind weekdays 09:00` "
            '(or `daily 16:30`, `cron "0 9 * * 1-5"`).'
        )
    lines = [
        f"• `{escape(r.schedule)}` ({escape(r.time_zone)}) — next {short(r.next_run, r.time_zone)}"
        for r in reminders
    ]
    return "Reminders:\n" + "\n".join(lines) + "\nTurn them off with `/transition remind off`."


def reminder_post(due: DueReminder, not_acked: Sequence[str] | None) -> tuple[str, list[Block]]:
    """The reminder message: the scheduled local time, the open steps and their owners."""
    status = due.status
    tz = status.tenant.time_zone
    when = short(due.fire_time, tz)
    lines = []
    for view in status.steps:
        if view.status is not Status.OPEN:
            continue
        owner = f" — <@{view.owner_id}>" if view.owner_id else ""
        line = f"• *{escape(view.step.title)}*{owner}"
        if view.step.id is StepId.PASSWORDS and not_acked is not None:
            if not_acked:
                line += " — not yet: " + ", ".join(f"<@{u}>" for u in not_acked[:30])
                if len(not_acked) > 30:
                    line += f" and {len(not_acked) - 30} more"
            else:
                line += " — everyone in the channel has confirmed"
        lines.append(line)
    text = f"Reminder for {status.tenant.name} ({when}): {len(lines)} open step(s)"
    if not lines:
        name = escape(status.tenant.name)
        return text, [section(f":alarm_clock: *Reminder for {name}* ({when}): all steps finished.")]
    blocks: list[Block] = [
        section(
            f":alarm_clock: *Reminder for {escape(status.tenant.name)}* ({when}) — "
            f"{status.progress}. Open steps:"
        ),
        *pack_sections(lines, MAX_BLOCKS - 2),
        context("`/transition status` for the runbook · `/transition reminders` to list them"),
    ]
    return text, blocks
