"""A local stand-in for Slack's Web API, for the console: what the bot posts is printed.

The app's ``AsyncWebClient`` talks to it over HTTP exactly as to slack.com (``SLACK_API_URL``
points here), so nothing in the bot knows it runs in a terminal. It runs an aiohttp server on
127.0.0.1, port 0, in a thread of its own, like a remote service: the console's event loop then
only holds the bot's own work, which is how the shell knows when the bot has gone quiet.

It keeps what Slack keeps for the console's sake: the messages (to edit them in place and to
build the ``message`` of a click), the open modal stack, the issued ``trigger_id``s (each works
once) and the ``response_url``s (which message a click's ``respond()`` replaces). It prints
every message, edit, ephemeral and modal through the renderer and remembers which surface with
buttons was shown last, for ``click N``. Channel messages are kept in a history file between
sessions, as Slack keeps them: ``messages`` shows the recent ones with buttons again, numbered
for ``click N``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.console.blockkit import block_problems, view_problems
from bot.console.payloads import MessageSurface, Surface, ViewSurface, new_trigger_id
from bot.console.render import Button, Style, render_message, render_view
from bot.ops.config import ConfigError

JSON = dict[str, Any]
BOT_TOKEN = "xoxb-console-local-token"  # any value works: the local API only checks it matches
BOT_USER = "U0BOT"
BOT_ID = "B0BOT"
BOT_NAME = "transition-bot"
# form fields slack_sdk sends as JSON strings
_JSON_PARAMS = ("blocks", "attachments", "view", "metadata", "user_ids")
HISTORY_KEPT = 200  # channel messages kept between sessions (the newest)

Emit = Callable[[str], None]


@dataclass
class _Message:
    number: int
    channel: str
    ts: str
    body: JSON
    ephemeral_to: str | None = None  # user id when only they see it


@dataclass
class _ResponseTarget:
    channel: str
    user: str
    message_ts: str | None  # the message a click came from: what replace_original edits


@dataclass
class _State:
    messages: dict[tuple[str, str], _Message] = field(default_factory=dict)
    views: dict[str, JSON] = field(default_factory=dict)
    modal_stack: list[str] = field(default_factory=list)
    homes: dict[str, str] = field(default_factory=dict)  # user -> view id
    shown: list[tuple[str, ...]] = field(default_factory=list)  # surfaces, last shown last
    triggers: set[str] = field(default_factory=set)
    responses: dict[str, _ResponseTarget] = field(default_factory=dict)
    members: dict[str, set[str]] = field(default_factory=dict)


def _indent(text: str, prefix: str = "  ") -> str:
    return "\n".join(prefix + line if line else line for line in text.splitlines())


class WebApi:
    """Start with ``start()``; point ``SLACK_API_URL`` at ``api_url``; ``stop()`` at the end."""

    def __init__(
        self,
        emit: Emit,
        style: Style,
        *,
        team_id: str,
        token: str = BOT_TOKEN,
        history: Path | None = None,
    ) -> None:
        self._print = emit
        self._held: list[str] | None = None  # output kept back until a request's ack is shown
        self.style = style
        self.team_id = team_id
        self.token = token
        self.base_url = ""
        self.show_home = False  # print the next views.publish in full (the `home` command)
        self._state = _State()
        self._lock = threading.RLock()
        self._history = history  # where channel messages are kept between sessions
        self._next_number = 1
        self._ts_serial = 0
        # After `messages`: the buttons it listed (surface, button), until more is shown.
        self._listing: list[tuple[Surface, Button]] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None

    # --- lifecycle (called from the console's thread) ------------------------------------

    def start(self) -> None:
        self._load_history()
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._thread = threading.Thread(target=loop.run_forever, name="console-webapi", daemon=True)
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._serve(), loop).result(timeout=30)

    def stop(self) -> None:
        if self._loop is None:
            return
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(timeout=30)
        self._loop.close()
        self._loop = None

    async def _serve(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._handle_api)
        app.router.add_post("/response/{key}", self._handle_response_url)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.base_url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/"

    # --- output ---------------------------------------------------------------------------

    def emit(self, text: str) -> None:
        with self._lock:
            if self._held is not None:
                self._held.append(text)
                return
        self._print(text)

    def hold_output(self) -> None:
        """Keep back what the bot sends from now on: Bolt returns the ack only after the
        listener called ``ack()``, and the listener may already have posted or responded, yet
        Slack shows the ack first. ``show_ack`` prints ahead of what is held."""
        with self._lock:
            self._held = []

    @contextlib.contextmanager
    def _ahead_of_held(self) -> Iterator[None]:
        """Print at once, before the output being held."""
        with self._lock:
            held, self._held = self._held, None
            try:
                yield
            finally:
                self._held = held

    def release_output(self) -> None:
        with self._lock:
            held, self._held = self._held or [], None
            for text in held:
                self._print(text)

    # --- what the console asks -----------------------------------------------------------

    def issue_trigger_id(self) -> str:
        trigger_id = new_trigger_id()
        with self._lock:
            self._state.triggers.add(trigger_id)
        return trigger_id

    def response_url(self, channel: str, user: str, message_ts: str | None = None) -> str:
        key = secrets.token_hex(12)
        with self._lock:
            self._state.responses[key] = _ResponseTarget(channel, user, message_ts)
        return f"{self.base_url}/response/{key}"

    def add_member(self, channel: str, user: str) -> None:
        with self._lock:
            self._state.members.setdefault(channel, set()).add(user)

    def clickable(self) -> tuple[Surface, tuple[Button, ...]] | None:
        """The surface with buttons shown last (a message, an open modal, a home tab)."""
        with self._lock:
            for key in reversed(self._state.shown):
                found = self._surface(key)
                if found is not None and found[1]:
                    return found
        return None

    def buttons_to_click(self) -> list[tuple[Surface, Button]]:
        """What ``click N`` chooses from: the buttons `messages` listed, or else those of the
        surface with buttons shown last."""
        with self._lock:
            if self._listing is not None:
                return list(self._listing)
            found = self.clickable()
        return [] if found is None else [(found[0], button) for button in found[1]]

    def list_messages(self, channel: str, limit: int) -> int:
        """Show the ``limit`` newest messages of ``channel`` with buttons again, newest first,
        their buttons numbered in one run for ``click N``; how many were shown."""
        with self._lock:
            listing: list[tuple[Surface, Button]] = []
            shown = 0
            newest_first = sorted(self._state.messages.values(), key=lambda m: -m.number)
            for message in newest_first:
                if shown == limit:
                    break
                if message.channel != channel or message.ephemeral_to:
                    continue
                rendered = render_message(message.body, self.style, first=len(listing) + 1)
                if not rendered.buttons:
                    continue
                surface = MessageSurface(message.channel, message.ts, message.body, False)
                listing.extend((surface, button) for button in rendered.buttons)
                head = self.style.dim(f"── #{channel} · ") + self.style.bold(BOT_NAME)
                self.emit(f"{head}{self.style.dim(' · ' + self._name(message))}")
                self.emit(_indent(rendered.text))
                shown += 1
            self._listing = listing if listing else None
            return shown

    def open_modal(self) -> JSON | None:
        with self._lock:
            stack = self._state.modal_stack
            return dict(self._state.views[stack[-1]]) if stack else None

    def home_view(self, user: str) -> JSON | None:
        with self._lock:
            view_id = self._state.homes.get(user)
            return dict(self._state.views[view_id]) if view_id else None

    def show_ack(self, channel: str, user: str, body: JSON) -> None:
        """A command's ack body: Slack shows it to the user alone, or in the channel, ahead of
        what the listener sent after acking (held by ``hold_output``)."""
        with self._ahead_of_held():
            if self._refusal("acknowledgement", body) is not None:
                return
            if body.get("response_type") == "in_channel":
                self._post(channel, body)
            else:
                self._post(channel, body, ephemeral_to=user)

    def apply_submission_ack(self, body: JSON) -> None:
        """What Slack does with a view_submission's ack: close, show errors, update, push
        (shown ahead of what the listener sent after acking)."""
        with self._ahead_of_held():
            stack = self._state.modal_stack
            action = body.get("response_action")
            if action == "errors":
                errors = body.get("errors") or {}
                lines = [f"  {name}: {message}" for name, message in errors.items()]
                self.emit(self.style.bold("Modal not submitted, fix:") + "\n" + "\n".join(lines))
            elif action in ("update", "push") and isinstance(body.get("view"), dict):
                if action == "update" and stack:
                    self._put_view(dict(body["view"]), stack[-1])
                else:
                    self._put_view(dict(body["view"]), None, push=True)
            elif action == "clear":
                stack.clear()
                self.emit(self.style.dim("(modal closed)"))
            else:
                if stack:
                    stack.pop()
                self.emit(self.style.dim("(modal closed)"))

    def close_modal(self) -> JSON | None:
        """The person closes the top modal; returns it (for a view_closed, when asked for).
        Under a pushed modal lies the one it was pushed from, shown again."""
        with self._lock:
            stack = self._state.modal_stack
            if not stack:
                return None
            closed = dict(self._state.views[stack.pop()])
            self.emit(self.style.dim("(modal closed)"))
            if stack:
                self._mark_shown(("view", stack[-1]))
                self.emit(render_view(self._state.views[stack[-1]], self.style).text)
            return closed

    # --- surfaces --------------------------------------------------------------------------

    def _surface(self, key: tuple[str, ...]) -> tuple[Surface, tuple[Button, ...]] | None:
        if key[0] == "msg":
            message = self._state.messages.get((key[1], key[2]))
            if message is None:
                return None
            rendered = render_message(message.body, self.style)
            surface: Surface = MessageSurface(
                message.channel, message.ts, message.body, message.ephemeral_to is not None
            )
            return surface, rendered.buttons
        view = self._state.views.get(key[1])
        if view is None:
            return None
        if view.get("type") != "home" and key[1] not in self._state.modal_stack:
            return None
        return ViewSurface(view), render_view(view, self.style).buttons

    def _mark_shown(self, key: tuple[str, ...]) -> None:
        self._listing = None
        shown = self._state.shown
        if key in shown:
            shown.remove(key)
        shown.append(key)

    def _next_ts(self) -> str:
        self._ts_serial += 1
        return f"{int(time.time())}.{self._ts_serial:06d}"

    @staticmethod
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

    def _message_body(self, params: JSON, ts: str) -> JSON:
        body: JSON = {
            "type": "message",
            "user": BOT_USER,
            "bot_id": BOT_ID,
            "ts": ts,
            "text": params.get("text") or "",
        }
        for key in ("blocks", "attachments"):
            if params.get(key):
                body[key] = self._with_block_ids(params[key])
        return body

    @staticmethod
    def _name(message: _Message) -> str:
        if message.ephemeral_to:
            return f"only visible to @{message.ephemeral_to}"
        return f"message {message.number}"

    def _print_message(self, message: _Message, note: str) -> None:
        where = f"#{message.channel}"
        who = self.style.bold(BOT_NAME)
        label = self._name(message)
        head = self.style.dim(f"── {where} · ") + who + self.style.dim(f" · {label}{note}")
        rendered = render_message(message.body, self.style)
        self.emit(head + "\n" + _indent(rendered.text or "(empty message)"))

    def _post(self, channel: str, params: JSON, *, ephemeral_to: str | None = None) -> _Message:
        ts = self._next_ts()
        number = 0  # ephemerals are not referred to
        if not ephemeral_to:
            number, self._next_number = self._next_number, self._next_number + 1
        message = _Message(number, channel, ts, self._message_body(params, ts), ephemeral_to)
        self._state.messages[(channel, ts)] = message
        self._mark_shown(("msg", channel, ts))
        self._print_message(message, "")
        self._save_history()
        return message

    def _update(self, message: _Message, params: JSON) -> None:
        message.body = self._message_body(params, message.ts)
        self._mark_shown(("msg", message.channel, message.ts))
        self._print_message(message, " (edited)")
        self._save_history()

    def _delete(self, message: _Message) -> None:
        del self._state.messages[(message.channel, message.ts)]
        self.emit(self.style.dim(f"({self._name(message)} deleted)"))
        self._save_history()

    def _put_view(self, view: JSON, view_id: str | None, *, push: bool = False) -> JSON:
        view_id = view_id or "V" + secrets.token_hex(5).upper()
        stored = {
            **view,
            "id": view_id,
            "team_id": self.team_id,
            "blocks": self._with_block_ids(view.get("blocks") or []),
            "hash": f"{int(time.time())}.{secrets.token_hex(4)}",
            "state": {"values": {}},
        }
        self._state.views[view_id] = stored
        if view.get("type") != "home":
            stack = self._state.modal_stack
            if push and view_id not in stack:
                stack.append(view_id)
            if view_id in stack:  # an update of a closed modal is not seen by anyone
                self._mark_shown(("view", view_id))
                self.emit(render_view(stored, self.style).text)
        return stored

    # --- history ---------------------------------------------------------------------------

    def _load_history(self) -> None:
        if self._history is None or not self._history.exists():
            return
        try:
            saved = json.loads(self._history.read_text())
            messages = [
                _Message(int(m["number"]), str(m["channel"]), str(m["ts"]), dict(m["body"]))
                for m in saved["messages"]
            ]
            next_number, ts_serial = int(saved["next_number"]), int(saved["ts_serial"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ConfigError(
                f"{self._history} is not a console history ({exc.__class__.__name__}): "
                "move it away to start with no earlier messages."
            ) from None
        self._state.messages = {(m.channel, m.ts): m for m in messages}
        self._next_number, self._ts_serial = next_number, ts_serial

    def _save_history(self) -> None:
        if self._history is None:
            return
        kept = sorted(
            (m for m in self._state.messages.values() if not m.ephemeral_to),
            key=lambda m: m.number,
        )[-HISTORY_KEPT:]
        saved = {
            "next_number": self._next_number,
            "ts_serial": self._ts_serial,
            "messages": [
                {"number": m.number, "channel": m.channel, "ts": m.ts, "body": m.body} for m in kept
            ],
        }
        partial = self._history.with_name(self._history.name + ".partial")
        partial.write_text(json.dumps(saved))
        os.replace(partial, self._history)  # a crash leaves the old history, never half of one

    # --- HTTP ------------------------------------------------------------------------------

    async def _params(self, request: web.Request) -> JSON:
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

    async def _handle_api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await self._params(request)
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else params.get("token")
        if token != self.token:
            return web.json_response({"ok": False, "error": "invalid_auth"})
        with self._lock:
            return web.json_response(self._answer(method, params))

    async def _handle_response_url(self, request: web.Request) -> web.Response:
        body = await request.json()
        with self._lock:
            target = self._state.responses.get(request.match_info["key"])
            if target is None:
                return web.Response(status=404, text="no_such_response_url")
            if self._refusal("response_url post", body) is not None:
                return web.Response(status=400, text="invalid_blocks")
            original = (
                self._state.messages.get((target.channel, target.message_ts))
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
        return web.Response(text="ok")

    def _refusal(self, what: str, params: JSON) -> JSON | None:
        """Slack's ``invalid_blocks`` for what it would not accept, printed for the developer."""
        if isinstance(params.get("view"), dict):
            problems = view_problems(params["view"])
        elif "blocks" in params:
            problems = block_problems(params["blocks"])
        else:
            return None
        if not problems:
            return None
        lines = "\n".join(f"  {p}" for p in problems)
        self.emit(
            self.style.bold(f"Slack would refuse this {what} (invalid_blocks):") + "\n" + lines
        )
        return {"ok": False, "error": "invalid_blocks", "errors": problems}

    def _answer(self, method: str, params: JSON) -> JSON:
        refused = self._refusal(method, params)
        if refused is not None:
            return refused
        channel = str(params.get("channel", ""))
        if method == "auth.test":
            return {
                "ok": True,
                "url": "https://console.local/",
                "team": "Console",
                "user": BOT_NAME,
                "team_id": self.team_id,
                "user_id": BOT_USER,
                "bot_id": BOT_ID,
                "is_enterprise_install": False,
            }
        if method == "chat.postMessage":
            message = self._post(channel, params)
            return {"ok": True, "channel": channel, "ts": message.ts, "message": message.body}
        if method == "chat.update":
            found = self._state.messages.get((channel, str(params.get("ts", ""))))
            if found is None:
                return {"ok": False, "error": "message_not_found"}
            self._update(found, params)
            return {"ok": True, "channel": channel, "ts": found.ts, "text": found.body["text"]}
        if method == "chat.postEphemeral":
            message = self._post(channel, params, ephemeral_to=str(params.get("user", "")))
            return {"ok": True, "message_ts": message.ts}
        if method == "chat.delete":
            gone = self._state.messages.get((channel, str(params.get("ts", ""))))
            if gone is None:
                return {"ok": False, "error": "message_not_found"}
            self._delete(gone)
            return {"ok": True, "channel": channel, "ts": gone.ts}
        if method == "chat.getPermalink":
            ts = str(params.get("message_ts", ""))
            link = f"https://console.local/archives/{channel}/p{ts.replace('.', '')}"
            return {"ok": True, "channel": channel, "permalink": link}
        if method.startswith("views."):
            return self._answer_views(method, params)
        if method == "users.info":
            return {"ok": True, "user": self._user(str(params.get("user", "")))}
        if method == "conversations.members":
            members = sorted(self._state.members.get(channel, set()) | {BOT_USER})
            return {"ok": True, "members": members, "response_metadata": {"next_cursor": ""}}
        if method == "conversations.info":
            info = {"id": channel, "name": channel.lower(), "is_member": True}
            return {"ok": True, "channel": info}
        if method == "conversations.join":
            return {"ok": True, "channel": {"id": channel}}
        self.emit(self.style.dim(f"(console: {method} is not simulated; answered ok)"))
        return {"ok": True}

    def _answer_views(self, method: str, params: JSON) -> JSON:
        view = params.get("view")
        if not isinstance(view, dict):
            return {"ok": False, "error": "invalid_arguments"}
        if method in ("views.open", "views.push"):
            trigger_id = str(params.get("trigger_id", ""))
            if trigger_id not in self._state.triggers:
                return {"ok": False, "error": "invalid_trigger_id"}
            self._state.triggers.discard(trigger_id)  # a trigger_id works once
            if method == "views.open":
                self._state.modal_stack.clear()
            return {"ok": True, "view": self._put_view(view, None, push=True)}
        if method == "views.update":
            view_id = str(params.get("view_id", ""))
            if not view_id and params.get("external_id"):
                view_id = next(
                    (
                        vid
                        for vid, v in self._state.views.items()
                        if v.get("external_id") == params["external_id"]
                    ),
                    "",
                )
            if view_id not in self._state.views:
                return {"ok": False, "error": "not_found"}
            return {"ok": True, "view": self._put_view(view, view_id)}
        if method == "views.publish":
            user = str(params.get("user_id", ""))
            stored = self._put_view(view, self._state.homes.get(user))
            self._state.homes[user] = stored["id"]
            if self.show_home:
                self.show_home = False
                self._mark_shown(("view", stored["id"]))
                self.emit(render_view(stored, self.style).text)
            else:
                self.emit(self.style.dim(f"(home tab of @{user} updated; `home` shows it)"))
            return {"ok": True, "view": stored}
        return {"ok": False, "error": "unknown_method"}

    @staticmethod
    def _user(user_id: str) -> JSON:
        name = user_id.lower()
        return {
            "id": user_id,
            "name": name,
            "real_name": user_id,
            "tz": "UTC",
            "tz_offset": 0,
            "is_bot": user_id == BOT_USER,
            "is_admin": True,
            "profile": {"display_name": name, "real_name": user_id},
        }
