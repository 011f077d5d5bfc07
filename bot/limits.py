"""Limits on what a Slack request may carry, applied before anything reaches DNS, the database
or a message. Pure: no Slack, no database.

Slack itself never sends more than these (a plain-text input holds 3,000 characters, a command
text about 4,000, ids are short upper-case words); anything beyond them is forged or broken, so
strings are cut, lists and objects shortened, deep nesting dropped, and ids that are not ids
refused. The word parsers (bot.commands, bot.domain, bot.tenant_form) keep their own, tighter
limits and say what is wrong; these caps only bound what they are handed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

MAX_BODY_BYTES = 1024 * 1024  # a request body over 1 MB is refused before it is read
MAX_STRING = 3000  # Slack's own limit for a plain-text input's value
MAX_ITEMS = 100  # list items / object keys kept per level
MAX_DEPTH = 16  # deeper nesting is dropped (real payloads are under 10 levels)
MAX_ID = 32  # the database's id columns; Slack ids are far shorter

_ID = re.compile(rf"^[A-Z0-9]{{1,{MAX_ID}}}$")
# Where a payload names a workspace, user or channel: (path of keys) per payload shape.
ID_PATHS: tuple[tuple[str, ...], ...] = (
    ("team_id",),
    ("user_id",),
    ("channel_id",),
    ("enterprise_id",),
    ("team", "id"),
    ("user", "id"),
    ("user", "team_id"),
    ("channel", "id"),
    ("enterprise", "id"),
    ("container", "channel_id"),
    ("view", "team_id"),
    ("event", "user"),
    ("event", "channel"),
)


def cap(value: Any, depth: int = 0) -> Any:
    """A copy of a parsed JSON/form value with every string, list and object bounded."""
    if isinstance(value, str):
        return value[:MAX_STRING]
    if depth >= MAX_DEPTH:
        return None
    if isinstance(value, dict):
        items = list(value.items())[:MAX_ITEMS]
        return {str(k)[:MAX_STRING]: cap(v, depth + 1) for k, v in items}
    if isinstance(value, list):
        return [cap(v, depth + 1) for v in value[:MAX_ITEMS]]
    return value


def _at(body: dict[str, Any], path: tuple[str, ...]) -> Iterator[Any]:
    node: Any = body
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return
        node = node[key]
    yield node


def bad_ids(body: dict[str, Any]) -> list[str]:
    """The dotted paths whose value is present but not a Slack id (empty and null are fine:
    Slack leaves some of them out)."""
    bad: list[str] = []
    for path in ID_PATHS:
        for value in _at(body, path):
            if value in (None, ""):
                continue
            if path[0] == "event" and not isinstance(value, str):
                continue  # some events carry a whole user or channel object here
            if not isinstance(value, str) or not _ID.match(value):
                bad.append(".".join(path))
    return bad
