"""Small shared pieces for Block Kit messages: limits, escaping, truncation, packing."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import Block, ContextBlock, MarkdownTextObject, SectionBlock

MAX_BLOCKS = 50  # per message
MAX_SECTION_TEXT = 3000
MAX_CONTEXT_TEXT = 2000
MAX_HEADER_TEXT = 150
MAX_BUTTON_TEXT = 75
MAX_FALLBACK_TEXT = 4000


def escape(text: str) -> str:
    """Escape the three characters Slack's mrkdwn treats as control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def code(text: str) -> str:
    """Inline code for a DNS value; backticks inside would end it early."""
    return "`" + escape(text.replace("`", "'")) + "`"


def section(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=truncate(text, MAX_SECTION_TEXT)))


def context(text: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=truncate(text, MAX_CONTEXT_TEXT))])


def pack_sections(texts: Sequence[str], max_blocks: int) -> list[Block]:
    """One section per text while they fit in ``max_blocks``; otherwise texts are joined
    into as few sections as the 3000-character limit allows (never more than ``max_blocks``;
    what still does not fit is cut with a note)."""
    if len(texts) <= max_blocks:
        return [section(t) for t in texts]
    chunks: list[str] = []
    for text in texts:
        text = truncate(text, MAX_SECTION_TEXT)
        if chunks and len(chunks[-1]) + 2 + len(text) <= MAX_SECTION_TEXT:
            chunks[-1] += "\n\n" + text
        else:
            chunks.append(text)
    if len(chunks) > max_blocks:
        chunks = [*chunks[: max_blocks - 1], "_…more records than one message can show._"]
    return [section(c) for c in chunks]
