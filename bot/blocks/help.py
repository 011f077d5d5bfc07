"""The usage message of ``/transition`` (``help``, or a word it does not know)."""

from __future__ import annotations

import functools
from typing import Any

from slack_sdk.models.blocks import Block

from bot.blocks.common import escape, section

# (what to type, what it does); a new subcommand adds its line here.
USAGE: list[tuple[str, str]] = [
    ("/transition check contoso.com", "audit the domain's DNS against what Microsoft 365 needs"),
    ("/transition start contoso.com [more domains]", "open this channel's cutover (a form)"),
    ("/transition status", "the runbook: every step, who did it and when, buttons"),
    ("/transition done|skip|reopen STEP", "change a manual step (e.g. `done software`)"),
    ("/transition passwords", "post the password-change message people click"),
    ("/transition mailbox (or owa)", "verify the mailbox data: Graph credentials or the OWA check"),
    ("/transition request mx|lync", "ask the approvers to approve moving MX or federation"),
    ("/transition approve|reject mx|lync", "answer the open request, as its buttons do"),
    (
        "/transition remind weekdays 09:00",
        'post open steps on a schedule (`daily 16:30`, `cron "0 9 * * 1-5"`, `off`)',
    ),
    ("/transition reminders", "list this channel's reminders"),
    ("/transition history", "who did what, newest first"),
    ("/transition help", "this message"),
]


def usage_text(unknown: str | None = None) -> str:
    lines = []
    if unknown:
        lines.append(f"I don't know `{escape(unknown)}`. Here is what I can do:")
    lines.extend(f"• `{cmd}` — {what}" for cmd, what in USAGE)
    return "\n".join(lines)


def usage_blocks(unknown: str | None = None) -> list[Block]:
    return [section(usage_text(unknown))]


@functools.cache
def help_message() -> tuple[str, list[dict[str, Any]]]:
    """The text and blocks (as JSON-ready dicts) of the answer to ``help``, built once: the
    most common command; its Block Kit models cost more to render than the rest of its ack.
    Never modify the returned blocks."""
    return usage_text(), [block.to_dict() for block in usage_blocks()]
