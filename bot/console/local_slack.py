"""Slack's Web API kept in memory and served over HTTP on 127.0.0.1: the console's Slack, and
the one the tests talk to (tests/support/fake_slack.py records calls and injects failures on
top of it).

It keeps what Slack keeps: the messages (to edit them in place, to answer
``conversations.history``), the views and the modal stack, each user's home tab, the issued
``trigger_id``s (each works once) and ``response_url``s (which message a click's ``respond()``
replaces), channel members and users. It refuses blocks Slack would refuse (``invalid_blocks``)
and a token it does not know (``invalid_auth``); a method it does not simulate answers ok.

``strict`` (the console) knows only the ids it issued: an unknown trigger_id, view id, message
ts or response_url is refused as Slack refuses it. Not strict (the tests), it takes any id a
hand-made payload names, and answers as if it had issued it.

Subclasses show what happens through the ``_on_*`` hooks (the console prints it).
"""

from __future__ import annotations

import contextlib
import json
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any, Literal

from aiohttp import web

from bot.console.blockkit import block_problems, view_problems
from bot.console.payloads import new_trigger_id

JSON = dict[str, Any]
BOT_USER = "U0BOT"
BOT_ID = "B0BOT"
BOT_NAME = "transition-bot"
# form fields slack_sdk sends as JSON strings
_JSON_PARAMS = ("blocks", "attachments", "view", "metadata", "user_ids")

Change = Literal["posted", "edited", "deleted"]


@dataclass
class Message:
    number: int  # 1, 2, ... for channel messages; 0 for ephemerals (never referred to)
    channel: str
    ts: str
    body: JSON
    ephemeral_to: str | None = None  # user id when only they see it


@dataclass
class ResponseTarget:
    channel: str
    user: str
    message_ts: str | None  # the message a click came from: what replace_original edits


@dataclass(frozen=True)
class Workspace:
    """Who the local Slack is, as ``auth.test`` tells it."""

    team_id: str
    team: str
    url: str  # the workspace's address, ending in "/"


async def request_params(request: web.Request) -> JSON:
    """Query, form and JSON body in one dict, as slack_sdk sends them; JSON-ish form fields
    (``blocks`` and the like) decoded."""
    params: JSON = dict(request.query)
    if request.content_type == "application/json":
        params.update((await request.json()) if request.can_read_body else {})
    elif request.can_read_body:
        form = await request.post()
        params.update({k: v for k, v in form.items() if isinstance(v, str)})
        for key in _JSON_PARAMS:
            if isinstance(params.get(key), str):
                with contextlib.suppress(ValueError):  # not JSON: keep the text
                    params[key] = json.loads(params[key])
    return params


def bearer_token(request: web.Request, params: JSON) -> str | None:
    auth = request.headers.get("Authorization", "")
    token = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else params.get("token")
    return None if token is None else str(token)


def _with_block_ids(blocks: Any) -> Any:
    """Slack gives every block without a block_id one of its own."""
    if not isinstance(blocks, list):
        return blocks
    return [
        {**b, "block_id": b.get("block_id") or secrets.token_urlsafe(4)}
        if isinstance(b, dict)
        else b
        for b in blocks
    ]


def _truthy(value: Any) -> bool:
    return str(value) in ("1", "true", "True")


class LocalSlack:
    """Serve it with ``await listen()`` and point ``SLACK_API_URL`` at ``api_url``;
    ``await close()`` at the end."""

    def __init__(
        self, workspace: Workspace, *, token: str, strict: bool, admins_by_default: bool
    ) -> None:
        self.workspace = workspace
        self.token = token
        self.strict = strict
        self.admins_by_default = admins_by_default  # users.info of a user not in ``users``
        self.base_url = ""
        # users.info answers: user id -> the "user" object.
        self.users: dict[str, JSON] = {}
        # conversations.members per channel (a channel not listed has the bot alone).
        self.channel_members: dict[str, list[str]] = {}
        self.members_page_size = 1000  # conversations.members pages by this many (cursor)
        # Slack Connect: channel -> the team hosting it (conversations.info's
        # conversation_host_id); a channel not listed answers without one.
        self.channel_hosts: dict[str, str] = {}
        # Channels the bot is not in: chat.postMessage / chat.update answer not_in_channel.
        self.channels_without_bot: set[str] = set()
        self._messages: dict[tuple[str, str], Message] = {}
        self._views: dict[str, JSON] = {}
        self._modal_stack: list[str] = []
        self._homes: dict[str, str] = {}  # user -> view id
        self._triggers: set[str] = set()
        self._responses: dict[str, ResponseTarget] = {}
        self._next_number = 1
        self._ts_serial = 0
        # The console asks from its own thread while the server answers in another.
        self._lock = threading.RLock()
        self._runner: web.AppRunner | None = None

    @property
    def team_id(self) -> str:
        return self.workspace.team_id

    # --- serving ---------------------------------------------------------------------------

    def web_app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._handle_api)
        app.router.add_post("/response/{key}", self._handle_response_url)
        return app

    async def listen(self) -> None:
        self._runner = web.AppRunner(self.web_app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.base_url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def api_url(self) -> str:
        """What ``SLACK_API_URL`` must be set to (slack_sdk appends the method name)."""
        return f"{self.base_url}/api/"

    async def _handle_api(self, request: web.Request) -> web.Response:
        params = await request_params(request)
        token = bearer_token(request, params)
        return web.json_response(self.call(request.match_info["method"], token, params))

    async def _handle_response_url(self, request: web.Request) -> web.Response:
        status, text = self.respond(request.match_info["key"], await request.json())
        return web.Response(status=status, text=text)

    # --- what Slack hands out --------------------------------------------------------------

    def issue_trigger_id(self) -> str:
        trigger_id = new_trigger_id()
        with self._lock:
            self._triggers.add(trigger_id)
        return trigger_id

    def response_url(
        self, channel: str | None = None, user: str = "", message_ts: str | None = None
    ) -> str:
        """A fresh ``response_url`` for a click or command by ``user`` in ``channel``, from
        the message ``message_ts`` for a click on one. Without a channel, what is posted to
        it is checked and kept nowhere."""
        key = secrets.token_hex(12)
        if channel is not None:
            with self._lock:
                self._responses[key] = ResponseTarget(channel, user, message_ts)
        return f"{self.base_url}/response/{key}"

    # --- answering -------------------------------------------------------------------------

    def accepts(self, token: str | None) -> bool:
        return token == self.token

    def call(self, method: str, token: str | None, params: JSON) -> JSON:
        """The answer to one Web API call."""
        if not self.accepts(token):
            return {"ok": False, "error": "invalid_auth"}
        with self._lock:
            refused = self._refusal(method, params)
            return refused if refused is not None else self._answer(method, params)

    def respond(self, key: str, body: JSON) -> tuple[int, str]:
        """A POST to a ``response_url``: its HTTP status and text."""
        with self._lock:
            target = self._responses.get(key)
            if target is None and self.strict:
                return 404, "no_such_response_url"
            if self._refusal("response_url post", body) is not None:
                return 400, "invalid_blocks"
            if target is None:
                return 200, "ok"
            original = (
                self._messages.get((target.channel, target.message_ts))
                if target.message_ts
                else None
            )
            if body.get("delete_original") and original is not None:
                self._delete(original)
            elif body.get("replace_original") and original is not None:
                self._update(original, body)
            elif body.get("response_type") == "in_channel":
                self._post(target.channel, body)
            else:
                self._post(target.channel, body, ephemeral_to=target.user)
        return 200, "ok"

    def _refusal(self, what: str, params: JSON) -> JSON | None:
        """Slack's ``invalid_blocks`` for what it would not accept."""
        problems = view_problems(params["view"]) if "view" in params else []
        if "blocks" in params:
            problems += block_problems(params["blocks"])
        if not problems:
            return None
        self._on_refused(what, problems)
        return {"ok": False, "error": "invalid_blocks", "errors": problems}

    def _unknown(self, error: str, answer: JSON) -> JSON:
        """What an id it did not issue gets: Slack's error, or (not strict) ``answer``."""
        return {"ok": False, "error": error} if self.strict else answer

    def _answer(self, method: str, params: JSON) -> JSON:
        channel = str(params.get("channel", ""))
        if method in ("chat.postMessage", "chat.update") and channel in self.channels_without_bot:
            return {"ok": False, "error": "not_in_channel"}
        if method.startswith("chat."):
            return self._answer_chat(method, channel, params)
        if method.startswith("views."):
            return self._answer_views(method, params)
        if method.startswith("conversations."):
            return self._answer_conversations(method, channel, params)
        if method == "auth.test":
            return {
                "ok": True,
                "url": self.workspace.url,
                "team": self.workspace.team,
                "user": BOT_NAME,
                "team_id": self.workspace.team_id,
                "user_id": BOT_USER,
                "bot_id": BOT_ID,
                "is_enterprise_install": False,
            }
        if method == "users.info":
            user_id = str(params.get("user", ""))
            return {"ok": True, "user": self.users.get(user_id) or self._user(user_id)}
        self._on_unsimulated(method)
        return {"ok": True}

    def _answer_chat(self, method: str, channel: str, params: JSON) -> JSON:
        ts = str(params.get("ts", ""))
        if method == "chat.postMessage":
            message = self._post(channel, params)
            return {"ok": True, "channel": channel, "ts": message.ts, "message": message.body}
        if method == "chat.postEphemeral":
            message = self._post(channel, params, ephemeral_to=str(params.get("user", "")))
            return {"ok": True, "message_ts": message.ts}
        found = self._messages.get((channel, ts))
        if method == "chat.update":
            if found is None:
                text = str(params.get("text") or "")
                return self._unknown(
                    "message_not_found", {"ok": True, "channel": channel, "ts": ts, "text": text}
                )
            self._update(found, params)
            return {"ok": True, "channel": channel, "ts": found.ts, "text": found.body["text"]}
        if method == "chat.delete":
            if found is None:
                gone = {"ok": True, "channel": channel, "ts": ts}
                return self._unknown("message_not_found", gone)
            self._delete(found)
            return {"ok": True, "channel": channel, "ts": found.ts}
        if method == "chat.getPermalink":
            message_ts = str(params.get("message_ts", ""))
            link = f"{self.workspace.url}archives/{channel}/p{message_ts.replace('.', '')}"
            return {"ok": True, "channel": channel, "permalink": link}
        self._on_unsimulated(method)
        return {"ok": True}

    def _answer_conversations(self, method: str, channel: str, params: JSON) -> JSON:
        if method == "conversations.members":
            members = self.channel_members.get(channel, [BOT_USER])
            start = int(str(params.get("cursor") or "0"))
            end = start + min(int(params.get("limit") or 100), self.members_page_size)
            return {
                "ok": True,
                "members": members[start:end],
                "response_metadata": {"next_cursor": str(end) if end < len(members) else ""},
            }
        if method == "conversations.info":
            info: JSON = {"id": channel, "name": channel.lower(), "is_member": True}
            if channel in self.channel_hosts:
                host = self.channel_hosts[channel]
                info.update(is_ext_shared=True, conversation_host_id=host, context_team_id=host)
            return {"ok": True, "channel": info}
        if method == "conversations.join":
            self.channels_without_bot.discard(channel)
            return {"ok": True, "channel": {"id": channel}}
        if method == "conversations.history":
            return self._channel_history(channel, params)
        self._on_unsimulated(method)
        return {"ok": True}

    def _channel_history(self, channel: str, params: JSON) -> JSON:
        oldest = float(params.get("oldest") or 0)
        with_metadata = _truthy(params.get("include_all_metadata"))
        messages = []
        for message in reversed(self._messages.values()):  # newest first
            if message.channel != channel or message.ephemeral_to:
                continue
            if float(message.ts) < oldest:
                continue
            shown = {k: v for k, v in message.body.items() if k != "metadata" or with_metadata}
            messages.append(shown)
        return {"ok": True, "messages": messages, "has_more": False}

    def _answer_views(self, method: str, params: JSON) -> JSON:
        view = params.get("view")
        if not isinstance(view, dict):
            return {"ok": False, "error": "invalid_arguments"}
        if method in ("views.open", "views.push"):
            trigger_id = str(params.get("trigger_id", ""))
            if trigger_id not in self._triggers and self.strict:
                return {"ok": False, "error": "invalid_trigger_id"}
            self._triggers.discard(trigger_id)  # a trigger_id works once
            if method == "views.open":
                self._modal_stack.clear()
            return {"ok": True, "view": self._put_view(view, None, push=True)}
        if method == "views.update":
            view_id = str(params.get("view_id", ""))
            if not view_id and params.get("external_id"):
                view_id = next(
                    (
                        vid
                        for vid, v in self._views.items()
                        if v.get("external_id") == params["external_id"]
                    ),
                    "",
                )
            if view_id not in self._views and self.strict:
                return {"ok": False, "error": "not_found"}
            return {"ok": True, "view": self._put_view(view, view_id or None)}
        if method == "views.publish":
            user = str(params.get("user_id", ""))
            stored = self._put_view(view, self._homes.get(user))
            self._homes[user] = stored["id"]
            self._on_home_published(user, stored)
            return {"ok": True, "view": stored}
        return {"ok": False, "error": "unknown_method"}

    def _user(self, user_id: str) -> JSON:
        name = user_id.lower()
        return {
            "id": user_id,
            "name": name,
            "real_name": user_id,
            "tz": "UTC",
            "tz_offset": 0,
            "is_bot": user_id == BOT_USER,
            "is_admin": self.admins_by_default,
            "profile": {"display_name": name, "real_name": user_id},
        }

    # --- what Slack keeps ------------------------------------------------------------------

    def _next_ts(self) -> str:
        self._ts_serial += 1
        return f"{int(time.time())}.{self._ts_serial:06d}"

    @staticmethod
    def _message_body(params: JSON, ts: str) -> JSON:
        body: JSON = {
            "type": "message",
            "user": BOT_USER,
            "bot_id": BOT_ID,
            "ts": ts,
            "text": params.get("text") or "",
        }
        for key in ("blocks", "attachments"):
            if params.get(key):
                body[key] = _with_block_ids(params[key])
        if isinstance(params.get("metadata"), dict):
            body["metadata"] = params["metadata"]
        return body

    def _post(self, channel: str, params: JSON, *, ephemeral_to: str | None = None) -> Message:
        ts = self._next_ts()
        number = 0
        if not ephemeral_to:
            number, self._next_number = self._next_number, self._next_number + 1
        message = Message(number, channel, ts, self._message_body(params, ts), ephemeral_to)
        self._messages[(channel, ts)] = message
        self._on_message(message, "posted")
        return message

    def _update(self, message: Message, params: JSON) -> None:
        body = self._message_body(params, message.ts)
        if "metadata" in message.body and "metadata" not in body:
            body["metadata"] = message.body["metadata"]  # an edit keeps what it does not set
        message.body = body
        self._on_message(message, "edited")

    def _delete(self, message: Message) -> None:
        del self._messages[(message.channel, message.ts)]
        self._on_message(message, "deleted")

    def _put_view(self, view: JSON, view_id: str | None, *, push: bool = False) -> JSON:
        view_id = view_id or "V" + secrets.token_hex(5).upper()
        stored = {
            **view,
            "id": view_id,
            "team_id": self.workspace.team_id,
            "blocks": _with_block_ids(view.get("blocks") or []),
            "hash": f"{int(time.time())}.{secrets.token_hex(4)}",
            "state": {"values": {}},
        }
        self._views[view_id] = stored
        if view.get("type") != "home":
            stack = self._modal_stack
            if push and view_id not in stack:
                stack.append(view_id)
            if view_id in stack:  # an update of a closed modal is not seen by anyone
                self._on_modal_shown(stored)
        return stored

    # --- hooks: what a subclass shows ------------------------------------------------------

    def _on_message(self, message: Message, change: Change) -> None:
        """A message was posted, edited or deleted."""

    def _on_modal_shown(self, view: JSON) -> None:
        """An open modal was put on screen (opened, pushed or updated)."""

    def _on_home_published(self, user: str, view: JSON) -> None:
        """``user``'s home tab was published."""

    def _on_refused(self, what: str, problems: list[str]) -> None:
        """``what`` was refused as ``invalid_blocks``."""

    def _on_unsimulated(self, method: str) -> None:
        """``method`` is not simulated; it was answered ok."""
