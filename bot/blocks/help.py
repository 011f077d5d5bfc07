"""The usage message of ``/transition`` (``help``, or a word it does not know).

It is the ack's text alone: Slack renders a command's text as mrkdwn, so a section block would
only repeat it (twice the bytes, and a JSON encoding, on the most common command).
"""

from __future__ import annotations

from bot.blocks.common import escape

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
