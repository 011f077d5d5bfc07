"""What Slack would refuse as ``invalid_blocks``, found with slack_sdk's own Block Kit models
plus the limits Slack enforces that those models do not check, so a message that works in the
console (and in the tests' fake) also posts in Slack."""

from __future__ import annotations

from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_FIELD_TEXT = 2000
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_ACTION_ID = 255


def block_problems(blocks: Any, *, limit: int = MAX_MESSAGE_BLOCKS) -> list[str]:
    """Why Slack would refuse ``blocks`` (empty when it would accept them)."""
    if not isinstance(blocks, list):
        return ["blocks must be a list"]
    problems = [f"{len(blocks)} blocks, Slack allows {limit}"] if len(blocks) > limit else []
    for index, raw in enumerate(blocks):
        try:
            block = Block.parse(raw) if isinstance(raw, dict) else None
        except (SlackObjectFormationError, TypeError, AttributeError) as exc:
            problems.append(f"block {index}: {exc}")
            continue
        if block is None:
            kind = raw.get("type") if isinstance(raw, dict) else raw
            problems.append(f"block {index}: unknown block type {kind!r}")
            continue
        try:
            block.validate_json()
        except SlackObjectFormationError as exc:
            problems.append(f"block {index} ({raw.get('type')}): {exc}")
        problems.extend(f"block {index} ({raw.get('type')}): {p}" for p in _limit_problems(raw))
    return problems


def _text_of(node: Any) -> str:
    text = node.get("text", "") if isinstance(node, dict) else node
    return text if isinstance(text, str) else ""


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _limit_problems(raw: dict[str, Any]) -> list[str]:
    """The limits slack_sdk's ``validate_json`` lets through."""
    problems = []
    if any(len(_text_of(f)) > MAX_FIELD_TEXT for f in _list(raw.get("fields"))):
        problems.append(f"a field's text is over {MAX_FIELD_TEXT} characters")
    for element in (e for e in _list(raw.get("elements")) if isinstance(e, dict)):
        if element.get("type") == "button":
            if len(_text_of(element.get("text"))) > MAX_BUTTON_TEXT:
                problems.append(f"a button's text is over {MAX_BUTTON_TEXT} characters")
            if len(str(element.get("value", ""))) > MAX_BUTTON_VALUE:
                problems.append(f"a button's value is over {MAX_BUTTON_VALUE} characters")
        if len(str(element.get("action_id", ""))) > MAX_ACTION_ID:
            problems.append(f"an action_id is over {MAX_ACTION_ID} characters")
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
