"""The requests Slack sends the app, built and signed as Slack builds and signs them (pure).

A slash command is a form body; a click or a modal submission is a form body with one field,
``payload``, holding the JSON. Each is signed with Slack's v0 scheme (slack_sdk's own
``SignatureVerifier``) so the app's request verification checks it like any other request.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier

from bot.console import forms
from bot.console.render import Button

JSON = dict[str, Any]
FORM = "application/x-www-form-urlencoded"
APP_ID = "A0CONSOLE"
# Who the console is by default: one workspace, one person, one channel.
DEFAULT_TEAM = "T0CONSOLE"
DEFAULT_USER = "U0ADMIN"
DEFAULT_CHANNEL = "C0CONSOLE"
# Slack ids as people paste them: U123, <@U123>, @U123; C123, <#C123|name>, #C123.
USER_ID = re.compile(r"^<?@?([UW][A-Z0-9]{1,20})(\|[^>]*)?>?$")
CHANNEL_ID = re.compile(r"^<?#?([CGD][A-Z0-9]{1,20})(\|[^>]*)?>?$")
# Slack still sends the deprecated verification token; Bolt ignores it, we send a placeholder.
VERIFICATION_TOKEN = "console-verification-token"


@dataclass(frozen=True)
class ConsoleUser:
    """Who is typing, and where: the ids Slack puts in every request."""

    team_id: str
    user_id: str
    channel_id: str
    team_domain: str = "console"
    channel_name: str = "console"

    @property
    def user_name(self) -> str:
        return self.user_id.lower()


@dataclass(frozen=True)
class MessageSurface:
    """Buttons in a message: its channel, ts and body (ephemeral messages have no body sent)."""

    channel_id: str
    ts: str
    message: JSON
    ephemeral: bool = False


@dataclass(frozen=True)
class ViewSurface:
    """Buttons in a modal or on the home tab."""

    view: JSON


Surface = MessageSurface | ViewSurface


def new_trigger_id(now: float | None = None) -> str:
    """Shaped like Slack's: ``<unix seconds>.<digits>.<hex>``."""
    stamp = int(time.time() if now is None else now)
    return f"{stamp}.{secrets.randbelow(10**12)}.{secrets.token_hex(16)}"


def _action_ts(now: float | None) -> str:
    return f"{time.time() if now is None else now:.6f}"


def command_body(
    actor: ConsoleUser, command: str, text: str, *, response_url: str, trigger_id: str | None = None
) -> str:
    """The form body of a slash command, field for field as Slack posts it."""
    return urlencode(
        {
            "token": VERIFICATION_TOKEN,
            "team_id": actor.team_id,
            "team_domain": actor.team_domain,
            "channel_id": actor.channel_id,
            "channel_name": actor.channel_name,
            "user_id": actor.user_id,
            "user_name": actor.user_name,
            "command": command,
            "text": text,
            "api_app_id": APP_ID,
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": trigger_id or new_trigger_id(),
        }
    )


def _user(actor: ConsoleUser) -> JSON:
    return {
        "id": actor.user_id,
        "username": actor.user_name,
        "name": actor.user_name,
        "team_id": actor.team_id,
    }


def _team(actor: ConsoleUser) -> JSON:
    return {"id": actor.team_id, "domain": actor.team_domain}


def _action(button: Button, chosen: str | None, now: float | None) -> tuple[JSON, JSON | None]:
    """The ``actions[0]`` of a use of ``button``, and for a menu its new state entry."""
    action: JSON = {
        "type": button.kind,
        "action_id": button.action_id,
        "block_id": button.block_id,
        "action_ts": _action_ts(now),
    }
    if button.is_menu:
        menu = forms.element_field(button.element, block_id=button.block_id)
        state = forms.field_state(menu, button.element, chosen)
        action.update(state)
        if isinstance(button.element.get("placeholder"), dict):
            action["placeholder"] = button.element["placeholder"]
        return action, state
    action["text"] = {"type": "plain_text", "text": button.text, "emoji": True}
    if button.value is not None:
        action["value"] = button.value
    if button.style:
        action["style"] = button.style
    if button.url:
        action["url"] = button.url
    return action, None


def block_actions_payload(
    actor: ConsoleUser,
    button: Button,
    surface: Surface,
    *,
    response_url: str | None,
    chosen: str | None = None,
    trigger_id: str | None = None,
    now: float | None = None,
) -> JSON:
    """The ``block_actions`` payload of a click on ``button`` in ``surface`` (for a menu,
    choosing ``chosen``: an option's value or label, a user or channel id, a date…).
    Raises ``forms.FormError`` when ``chosen`` is not one of the menu's options."""
    action, state = _action(button, chosen, now)
    values: JSON = {button.block_id: {button.action_id: state}} if state is not None else {}
    payload: JSON = {
        "type": "block_actions",
        "user": _user(actor),
        "api_app_id": APP_ID,
        "token": VERIFICATION_TOKEN,
        "trigger_id": trigger_id or new_trigger_id(now),
        "team": _team(actor),
        "enterprise": None,
        "is_enterprise_install": False,
        "actions": [action],
    }
    if isinstance(surface, ViewSurface):
        view = surface.view
        payload["container"] = {"type": "view", "view_id": view.get("id", "")}
        old_values = (view.get("state") or {}).get("values") or {}
        payload["view"] = {**view, "state": {"values": {**old_values, **values}}}
        return payload
    payload["container"] = {
        "type": "message",
        "message_ts": surface.ts,
        "channel_id": surface.channel_id,
        "is_ephemeral": surface.ephemeral,
    }
    payload["channel"] = {"id": surface.channel_id, "name": actor.channel_name}
    if not surface.ephemeral:  # Slack does not send the body of an ephemeral message
        payload["message"] = surface.message
    payload["state"] = {"values": values}
    if response_url:
        payload["response_url"] = response_url
    return payload


def view_submission_payload(
    actor: ConsoleUser,
    view: Mapping[str, Any],
    values: Mapping[str, Mapping[str, JSON]],
    *,
    trigger_id: str | None = None,
) -> JSON:
    """The ``view_submission`` payload of ``view`` with ``values`` as its state."""
    submitted = {
        **view,
        "team_id": actor.team_id,
        "app_id": APP_ID,
        "state": {"values": {k: dict(v) for k, v in values.items()}},
    }
    submitted.setdefault("private_metadata", "")
    submitted.setdefault("callback_id", "")
    submitted.setdefault("hash", "")
    return {
        "type": "view_submission",
        "team": _team(actor),
        "user": _user(actor),
        "api_app_id": APP_ID,
        "token": VERIFICATION_TOKEN,
        "trigger_id": trigger_id or new_trigger_id(),
        "view": submitted,
        "response_urls": [],
        "is_enterprise_install": False,
        "enterprise": None,
    }


def view_closed_payload(actor: ConsoleUser, view: Mapping[str, Any]) -> JSON:
    """What Slack sends when a person cancels a modal that asked for ``notify_on_close``."""
    return {
        "type": "view_closed",
        "team": _team(actor),
        "user": _user(actor),
        "api_app_id": APP_ID,
        "token": VERIFICATION_TOKEN,
        "view": dict(view),
        "is_cleared": False,
        "is_enterprise_install": False,
        "enterprise": None,
    }


def event_envelope(
    actor: ConsoleUser, event: Mapping[str, Any], *, bot_user_id: str, now: float | None = None
) -> JSON:
    """An Events API ``event_callback`` delivering ``event`` (posted as JSON)."""
    stamp = time.time() if now is None else now
    return {
        "token": VERIFICATION_TOKEN,
        "team_id": actor.team_id,
        "api_app_id": APP_ID,
        "event": {"event_ts": f"{stamp:.6f}", **event},
        "type": "event_callback",
        "event_id": "Ev" + secrets.token_hex(5).upper(),
        "event_time": int(stamp),
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": actor.team_id,
                "user_id": bot_user_id,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
    }


def interaction_body(payload: Mapping[str, Any]) -> str:
    """Interactivity requests are ``payload=<json>``, form-encoded."""
    return urlencode({"payload": json.dumps(payload)})


def signed_headers(
    signing_secret: str, body: str, *, content_type: str = FORM, now: float | None = None
) -> dict[str, str]:
    """The headers Slack sends with ``body``: timestamp and v0 signature."""
    timestamp = str(int(time.time() if now is None else now))
    signature = SignatureVerifier(signing_secret).generate_signature(timestamp=timestamp, body=body)
    assert signature is not None  # None only when given no timestamp
    return {
        "content-type": content_type,
        "x-slack-request-timestamp": timestamp,
        "x-slack-signature": signature,
    }
