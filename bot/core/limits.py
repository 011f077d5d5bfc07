"""Limits on what a Slack request may carry, applied before anything reaches DNS, the database
or a message. Pure: no Slack, no database.

Slack itself never sends more than these (a plain-text input holds 3,000 characters, a command
text about 4,000, ids are short upper-case words); anything beyond them is forged or broken, so
strings are cut, lists and objects shortened, deep nesting dropped, and ids that are not ids
refused. The word parsers (bot.core.commands, bot.core.domain, bot.core.tenant_form) keep their
own, tighter
limits and say what is wrong; these caps only bound what they are handed.
"""

from __future__ import annotations

import itertools
import re
from typing import Any

MAX_BODY_BYTES = 1024 * 1024  # a request body over 1 MB is refused before it is read
MAX_STRING = 3000  # Slack's own limit for a plain-text input's value
MAX_ITEMS = 100  # list items / object keys kept per level
MAX_DEPTH = 16  # deeper nesting is dropped (real payloads are under 10 levels)
MAX_ID = 32  # the database's id columns; Slack ids are far shorter

_ID = re.compile(rf"^[A-Z0-9]{{1,{MAX_ID}}}$")
_EVENT_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")  # Slack's look like Ev08MFMKH6
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


def _text(value: str) -> str:
    if len(value) > MAX_STRING:
        value = value[:MAX_STRING]
    # NUL never comes from Slack, and PostgreSQL refuses it in text.
    return value.replace("\x00", "") if "\x00" in value else value


def cap(value: Any, depth: int = 0) -> Any:
    """A copy of a parsed JSON/form value with every string, list and object bounded (and no
    NUL character in any string). Strings inside an object or list are bounded in place of a
    call per value: every request's body passes here."""
    if isinstance(value, str):
        return _text(value)
    if depth >= MAX_DEPTH:
        return None
    if isinstance(value, dict):
        return {
            _text(str(k)): _text(v) if isinstance(v, str) else cap(v, depth + 1)
            for k, v in itertools.islice(value.items(), MAX_ITEMS)
        }
    if isinstance(value, list):
        return [_text(v) if isinstance(v, str) else cap(v, depth + 1) for v in value[:MAX_ITEMS]]
    return value


_ABSENT = object()


def _at(body: dict[str, Any], path: tuple[str, ...]) -> Any:
    node: Any = body
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return _ABSENT
        node = node[key]
    return node


def bad_ids(body: dict[str, Any]) -> list[str]:
    """The dotted paths whose value is present but not a Slack id (empty and null are fine:
    Slack leaves some of them out)."""
    bad: list[str] = []
    for path in ID_PATHS:
        value = _at(body, path)
        if value is _ABSENT or value in (None, ""):
            continue
        if path[0] == "event" and not isinstance(value, str):
            continue  # some events carry a whole user or channel object here
        if not isinstance(value, str) or not _ID.match(value):
            bad.append(".".join(path))
    if body.get("type") == "event_callback":
        event_id = body.get("event_id")
        if not isinstance(event_id, str) or not _EVENT_ID.match(event_id):
            bad.append("event_id")
    return bad


# Payload types this app serves, besides slash commands (which have no ``type``). Anything else
# (legacy dialogs, workflow steps) is refused before Bolt's helpers index into it.
SERVED_TYPES = frozenset(
    {
        "block_actions",
        "view_submission",
        "view_closed",
        "event_callback",
        "url_verification",
        "shortcut",
        "message_action",
        "block_suggestion",
    }
)
_OBJECTS = ("team", "user", "channel", "container", "message", "enterprise", "view", "event")


def shape_errors(body: Any) -> list[str]:
    """Why ``body`` is not shaped like a Slack payload we serve (empty when it is).

    Bolt's own helpers index into a payload by its type (``body["actions"][0]``,
    ``body["view"]["type"]``, ``body["event"]["type"]``); these are the shapes they assume.
    """
    if not isinstance(body, dict):
        return ["the body is not an object"]
    errors = [
        f"{key} is not an object"
        for key in _OBJECTS
        if body.get(key) is not None and not isinstance(body[key], dict)
    ]
    if "command" in body:
        if not isinstance(body["command"], str) or not isinstance(body.get("text", ""), str):
            errors.append("command and text are not text")
        return errors
    kind = body.get("type")
    if kind not in SERVED_TYPES:
        errors.append("not a kind of request this app takes")
    elif kind == "block_actions":
        actions = body.get("actions")
        if not (
            isinstance(actions, list)
            and actions
            and all(isinstance(a, dict) and isinstance(a.get("action_id"), str) for a in actions)
        ):
            errors.append("actions is not a list of actions")
    elif kind in ("view_submission", "view_closed"):
        view = body.get("view")
        if not (
            isinstance(view, dict)
            and isinstance(view.get("callback_id"), str)
            and isinstance(view.get("type"), str)
        ):
            errors.append("view has no callback_id and type")
        else:
            errors.extend(state_errors(view.get("state")))
    elif kind == "event_callback":
        event = body.get("event")
        if not (isinstance(event, dict) and isinstance(event.get("type"), str)):
            errors.append("event has no type")
    return errors


# What Slack puts in an input's state, by key (``view.state.values[block][action][key]``).
_STATE_TYPES: dict[str, type | tuple[type, ...]] = {
    "type": str,
    "value": (str, type(None)),
    "selected_option": (dict, type(None)),
    "selected_options": list,
    "selected_users": list,
    "selected_user": (str, type(None)),
    "selected_conversation": (str, type(None)),
    "selected_channel": (str, type(None)),
    "selected_date": (str, type(None)),
    "selected_time": (str, type(None)),
}


def state_errors(state: Any) -> list[str]:
    """Why a view's ``state`` is not ``{"values": {block: {action: {key: value}}}}`` with
    Slack's types for the keys it uses."""
    if state is None:
        return []
    values = state.get("values") if isinstance(state, dict) else None
    if not isinstance(values, dict):
        return ["view.state has no values"]
    for block in values.values():
        if not isinstance(block, dict) or not all(isinstance(a, dict) for a in block.values()):
            return ["view.state.values is not blocks of inputs"]
        for element in block.values():
            for key, expected in _STATE_TYPES.items():
                if key in element and not isinstance(element[key], expected):
                    return [f"view.state input {key} has the wrong type"]
            users = element.get("selected_users") or []
            if not all(isinstance(u, str) and _ID.match(u) for u in users):
                return ["view.state input selected_users holds something not a user id"]
            if not all(isinstance(o, dict) for o in element.get("selected_options") or []):
                return ["view.state input selected_options has the wrong items"]
            for key in ("selected_user", "selected_conversation", "selected_channel"):
                one = element.get(key)
                if one and not _ID.match(one):
                    return [f"view.state input {key} is not a Slack id"]
    return []
