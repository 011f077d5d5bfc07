"""Requests exactly as Slack sends them to the bot's ``POST /slack/events``, signed.

Slack signs ``v0:{timestamp}:{raw body}`` with HMAC-SHA256 and the app's signing secret and
sends ``X-Slack-Signature: v0=<hex>`` and ``X-Slack-Request-Timestamp``. ``SlackClient`` builds
the three kinds of body Slack uses on the one URL:

- slash commands: form-encoded (``command``, ``text``, ``team_id``, ``user_id``, ``channel_id``,
  ``response_url``, ``trigger_id``…) -> ``await slack.command("/transition", "check x.com")``;
- interactivity: form field ``payload=<json>`` -> ``slack.block_action(...)``,
  ``slack.view_submission(...)``;
- Events API: a JSON ``event_callback`` envelope -> ``slack.event({...})``.

Every call returns a ``SlackResponse`` (status, body text, parsed JSON when it is JSON).
``signature=`` / ``timestamp=`` override the signing, to test bad or stale signatures.
``response_url``s come from the fake Web API, so ``respond()`` calls are recorded there.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import aiohttp
from slack_sdk.signature import SignatureVerifier

from tests.support.fake_slack import DEFAULT_TEAM, FakeSlack

DEFAULT_SIGNING_SECRET = "test-signing-secret-0123456789abcdef"
DEFAULT_USER = "U0ALICE"
DEFAULT_CHANNEL = "C0CUTOVER"


@dataclass(frozen=True)
class SlackResponse:
    status: int
    text: str

    @property
    def json(self) -> Any:
        return json.loads(self.text) if self.text.startswith("{") else None

    @property
    def shown_text(self) -> str:
        """The ack's visible text (a JSON body's ``text``, or a plain-text body)."""
        data = self.json
        if isinstance(data, dict):
            texts = [str(data.get("text") or "")]
            texts.extend(_block_texts(data.get("blocks") or []))
            return "\n".join(t for t in texts if t)
        return self.text


def _block_texts(node: Any) -> list[str]:
    out: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "text" and isinstance(value, str):
                out.append(value)
            else:
                out.extend(_block_texts(value))
    elif isinstance(node, list):
        for item in node:
            out.extend(_block_texts(item))
    return out


def sign(secret: str, body: str, timestamp: int) -> str:
    """The ``X-Slack-Signature`` Slack would send (slack_sdk's own implementation)."""
    signature = SignatureVerifier(secret).generate_signature(timestamp=str(timestamp), body=body)
    assert signature is not None
    return signature


class SlackClient:
    """Posts signed requests to one running bot.

    ``url`` is the bot's ``.../slack/events``; ``fake`` the fake Web API handing out
    response_urls. ``team_id``, ``user_id`` and ``channel_id`` are defaults every builder
    accepts as keyword overrides.
    """

    def __init__(
        self,
        url: str,
        fake: FakeSlack,
        *,
        signing_secret: str = DEFAULT_SIGNING_SECRET,
        team_id: str = DEFAULT_TEAM,
        user_id: str = DEFAULT_USER,
        channel_id: str = DEFAULT_CHANNEL,
    ) -> None:
        self.url = url
        self.fake = fake
        self.signing_secret = signing_secret
        self.team_id = team_id
        self.user_id = user_id
        self.channel_id = channel_id

    async def post(
        self,
        body: str,
        content_type: str,
        *,
        signature: str | None = None,
        timestamp: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> SlackResponse:
        """Post a raw body, signed unless ``signature`` is given."""
        ts = int(time.time()) if timestamp is None else timestamp
        all_headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": str(ts),
            "X-Slack-Signature": signature or sign(self.signing_secret, body, ts),
            **(headers or {}),
        }
        async with (
            aiohttp.ClientSession() as session,
            session.post(self.url, data=body.encode(), headers=all_headers) as resp,
        ):
            return SlackResponse(resp.status, await resp.text())

    async def post_raw(self, body: str, headers: dict[str, str]) -> SlackResponse:
        """Post ``body`` with exactly ``headers`` (no signing added): junk-header tests."""
        async with (
            aiohttp.ClientSession(skip_auto_headers=("Content-Type",)) as session,
            session.post(self.url, data=body.encode(), headers=headers) as resp,
        ):
            return SlackResponse(resp.status, await resp.text(errors="replace"))

    # --- slash commands --------------------------------------------------------------------

    def command_body(
        self,
        command: str,
        text: str,
        *,
        team_id: str | None = None,
        user_id: str | None = None,
        channel_id: str | None = None,
        response_url: str | None = None,
    ) -> str:
        return urlencode(
            {
                "token": "deprecated-verification-token",
                "team_id": team_id or self.team_id,
                "team_domain": "test",
                "channel_id": channel_id or self.channel_id,
                "channel_name": "cutover",
                "user_id": user_id or self.user_id,
                "user_name": (user_id or self.user_id).lower(),
                "command": command,
                "text": text,
                "api_app_id": "A0TRANSITION",
                "is_enterprise_install": "false",
                "response_url": response_url or self.fake.response_url(),
                "trigger_id": f"{int(time.time())}.{uuid.uuid4().hex[:12]}",
            }
        )

    async def command(
        self,
        command: str,
        text: str = "",
        *,
        signature: str | None = None,
        timestamp: int | None = None,
        **ids: str,
    ) -> SlackResponse:
        """A slash command, e.g. ``await slack.command("/transition", "check contoso.com")``."""
        body = self.command_body(command, text, **ids)
        return await self.post(
            body,
            "application/x-www-form-urlencoded",
            signature=signature,
            timestamp=timestamp,
        )

    # --- interactivity ---------------------------------------------------------------------

    async def interaction(self, payload: dict[str, Any], **signing: Any) -> SlackResponse:
        """Any interactivity payload, form-encoded as ``payload=<json>``."""
        body = urlencode({"payload": json.dumps(payload)})
        return await self.post(body, "application/x-www-form-urlencoded", **signing)

    async def block_action(
        self,
        action_id: str,
        value: str = "",
        *,
        message: dict[str, Any] | None = None,
        block_id: str = "actions",
        team_id: str | None = None,
        user_id: str | None = None,
        channel_id: str | None = None,
        **signing: Any,
    ) -> SlackResponse:
        """A button click. ``message`` is the message clicked (needs at least ``ts``)."""
        payload: dict[str, Any] = {
            "type": "block_actions",
            "team": {"id": team_id or self.team_id, "domain": "test"},
            "user": {"id": user_id or self.user_id, "team_id": team_id or self.team_id},
            "api_app_id": "A0TRANSITION",
            "token": "deprecated-verification-token",
            "container": {
                "type": "message",
                "message_ts": (message or {}).get("ts", ""),
                "channel_id": channel_id or self.channel_id,
                "is_ephemeral": False,
            },
            "trigger_id": f"{int(time.time())}.{uuid.uuid4().hex[:12]}",
            "channel": {"id": channel_id or self.channel_id, "name": "cutover"},
            "message": message or {},
            "response_url": self.fake.response_url(),
            "actions": [
                {
                    "type": "button",
                    "action_id": action_id,
                    "block_id": block_id,
                    "value": value,
                    "text": {"type": "plain_text", "text": action_id},
                    "action_ts": f"{time.time():.6f}",
                }
            ],
        }
        return await self.interaction(payload, **signing)

    async def view_submission(
        self,
        callback_id: str,
        values: dict[str, dict[str, Any]],
        *,
        private_metadata: str = "",
        team_id: str | None = None,
        user_id: str | None = None,
        **signing: Any,
    ) -> SlackResponse:
        """A modal submission. ``values`` is ``{block_id: {action_id: {type, value...}}}``."""
        payload: dict[str, Any] = {
            "type": "view_submission",
            "team": {"id": team_id or self.team_id, "domain": "test"},
            "user": {"id": user_id or self.user_id, "team_id": team_id or self.team_id},
            "api_app_id": "A0TRANSITION",
            "token": "deprecated-verification-token",
            "trigger_id": f"{int(time.time())}.{uuid.uuid4().hex[:12]}",
            "view": {
                "id": "V0VIEW",
                "type": "modal",
                "callback_id": callback_id,
                "private_metadata": private_metadata,
                "state": {"values": values},
                "hash": "h",
                "title": {"type": "plain_text", "text": "Transition"},
                "blocks": [],
            },
            "response_urls": [],
        }
        return await self.interaction(payload, **signing)

    # --- Events API ------------------------------------------------------------------------

    async def event(
        self,
        event: dict[str, Any],
        *,
        team_id: str | None = None,
        event_id: str | None = None,
        retry_num: int | None = None,
        **signing: Any,
    ) -> SlackResponse:
        """An ``event_callback`` envelope around ``event`` (e.g. ``{"type": "app_home_opened",
        "user": "U1", "tab": "home"}``). ``retry_num`` adds ``X-Slack-Retry-Num``."""
        envelope = {
            "token": "deprecated-verification-token",
            "team_id": team_id or self.team_id,
            "api_app_id": "A0TRANSITION",
            "event": {"event_ts": f"{time.time():.6f}", **event},
            "type": "event_callback",
            "event_id": event_id or "Ev" + uuid.uuid4().hex[:10].upper(),
            "event_time": int(time.time()),
            "authorizations": [
                {"team_id": team_id or self.team_id, "user_id": "U0BOT", "is_bot": True}
            ],
        }
        headers = {}
        if retry_num is not None:
            headers = {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": "http_timeout"}
        return await self.post(json.dumps(envelope), "application/json", headers=headers, **signing)
