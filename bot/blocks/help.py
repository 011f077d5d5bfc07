"""The usage message of ``/transition`` (``help``, or a word it does not know)."""

from __future__ import annotations

from slack_sdk.models.blocks import Block

from bot.blocks.common import escape, section

# (what to type, what it does); a new subcommand adds its line here.
USAGE: list[tuple[str, str]] = [
    ("/transition check contoso.com", "audit the domain's DNS against what Microsoft 365 needs"),
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
