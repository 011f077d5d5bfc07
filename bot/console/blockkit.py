"""What Slack would refuse as ``invalid_blocks``, found with slack_sdk's own Block Kit models,
so a message that works in the console also posts in Slack."""

from __future__ import annotations

from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100


def block_problems(blocks: Any, *, limit: int = MAX_MESSAGE_BLOCKS) -> list[str]:
    """Why Slack would refuse ``blocks`` (empty when it would accept them)."""
    if not isinstance(blocks, list):
        return ["blocks must be a list"]
    problems = [f"{len(blocks)} blocks, Slack allows {limit}"] if len(blocks) > limit else []
    for index, raw in enumerate(blocks):
        block = Block.parse(raw) if isinstance(raw, dict) else None
        if block is None:
            kind = raw.get("type") if isinstance(raw, dict) else raw
            problems.append(f"block {index}: unknown block type {kind!r}")
            continue
        try:
            block.validate_json()
        except SlackObjectFormationError as exc:
            problems.append(f"block {index} ({raw.get('type')}): {exc}")
    return problems


def view_problems(view: Any) -> list[str]:
    """Why Slack would refuse ``view`` (a modal or home tab)."""
    if not isinstance(view, dict):
        return ["view must be an object"]
    try:
        View(**view).validate_json()
    except (SlackObjectFormationError, TypeError) as exc:
        return [f"view: {exc}"]
    return block_problems(view.get("blocks") or [], limit=MAX_VIEW_BLOCKS)
