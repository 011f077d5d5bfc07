"""Block Kit for the watch's announcements: one function from an Event to blocks.

Pure rendering: the event carries everything shown (loaded and decided by bot.watch).
"""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import Block, HeaderBlock

from bot.blocks.common import (
    MAX_FALLBACK_TEXT,
    MAX_HEADER_TEXT,
    code,
    context,
    escape,
    section,
    truncate,
)
from bot.watch.events import Event, EventKind

TITLES: dict[EventKind, str] = {
    EventKind.DATA_PROGRESS: "📬 Mailbox data is arriving",
    EventKind.DATA_READY: "✅ Mailbox data has arrived in Exchange Online",
    EventKind.RECORDS_READY: "✅ DNS records are ready (all but MX)",
    EventKind.READY_TO_MOVE_MX: "🚦 You can change MX now",
    EventKind.MX_MOVED: "🎉 MX now points to Microsoft 365",
    EventKind.MX_PARTIAL: "⏳ MX moved on some name servers only",
    EventKind.MX_MOVED_EARLY: "🚨 MX moved before the data was verified",
    EventKind.REGRESSION: "⚠️ A record that passed fails again",
    EventKind.LOCAL_AUTODISCOVER_OK: "✅ Local autodiscover points to Exchange Online",
    EventKind.CLEANUP_DUE: "🧹 The old platform's records can go now",
    EventKind.CLEANUP_DONE: "✅ The old platform's records are gone",
}


def _mentions(users: tuple[str, ...]) -> str:
    return " ".join(f"<@{u}>" for u in users)


def fallback_text(event: Event) -> str:
    """The notification text (and what screen readers get)."""
    prefix = _mentions(event.mention) + " " if event.mention else ""
    return truncate(f"{prefix}{TITLES[event.kind]}: {event.text}", MAX_FALLBACK_TEXT)


def announcement_blocks(event: Event) -> list[Block]:
    blocks: list[Block] = [HeaderBlock(text=truncate(TITLES[event.kind], MAX_HEADER_TEXT))]
    if event.kind is EventKind.MX_MOVED_EARLY:
        who = _mentions(event.mention) or "Approvers"
        blocks.append(section(f"*{who}: {escape(event.text)}*"))
        blocks.append(
            section(
                "The guide's rule is to move MX only after the data is verified. Check in OWA "
                "that the mailboxes show their mail; if they do not, point MX back until the "
                "data is there."
            )
        )
    else:
        blocks.append(section(escape(event.text)))
    for change in event.mx_changes:
        lines = [f"*{escape(change.domain)}*: {code(change.record)}"]
        if change.current:
            lines.append("now: " + ", ".join(code(v) for v in change.current))
        if change.ttl is not None:
            lines.append(f"current TTL {change.ttl} s")
        blocks.append(section("\n".join(lines)))
    if event.kind is EventKind.MX_PARTIAL and event.servers_pending:
        blocks.append(
            context("Still answering the old MX: " + ", ".join(map(escape, event.servers_pending)))
        )
    if event.removals:
        blocks.append(section("\n".join(f"• {code(r)}" for r in event.removals)))
    if event.kind is EventKind.REGRESSION:
        blocks.append(context("Run `/transition check` to see what changed and the fix."))
    return blocks


def announcement_blocks_json(event: Event) -> list[dict[str, Any]]:
    """The blocks as the outbox stores them (JSON-ready)."""
    return [b.to_dict() for b in announcement_blocks(event)]


PROBE_FAILED_TITLE = "⚠️ The automatic mailbox check is failing"


def probe_failed_text(error: str) -> str:
    return truncate(f"{PROBE_FAILED_TITLE}: {error}", MAX_FALLBACK_TEXT)


def probe_failed_blocks_json(error: str) -> list[dict[str, Any]]:
    """The data check could not run (bad credentials, missing permission, Graph down)."""
    blocks: list[Block] = [
        HeaderBlock(text=PROBE_FAILED_TITLE),
        section(escape(error)),
        context(
            "Nothing is announced about the mailbox data until it works again. An admin can "
            "enter the credentials again with `/transition mailbox` → *Change automatic "
            "check*, or confirm the data by hand with *I see my mail in OWA*."
        ),
    ]
    return [b.to_dict() for b in blocks]
