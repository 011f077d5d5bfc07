"""The console's Slack: the local Web API (``LocalSlack``) with what the bot posts printed.

The app's ``AsyncWebClient`` talks to it over HTTP exactly as to slack.com (``SLACK_API_URL``
points here), so nothing in the bot knows it runs in a terminal. It runs its server on
127.0.0.1, port 0, in a thread of its own, like a remote service: the console's event loop then
only holds the bot's own work, which is how the shell knows when the bot has gone quiet.

It prints every message, edit, ephemeral and modal through the renderer and remembers which
surface with buttons was shown last, for ``click N``. Channel messages are kept in a history
file between sessions, as Slack keeps them: ``messages`` shows the recent ones with buttons
again, numbered for ``click N``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

from bot.console.local_slack import (
    BOT_NAME,
    BOT_USER,
    JSON,
    Change,
    LocalSlack,
    Message,
    Workspace,
)
from bot.console.payloads import MessageSurface, Surface, ViewSurface
from bot.console.render import Button, Style, render_message, render_view
from bot.ops.config import ConfigError

BOT_TOKEN = "xoxb-console-local-token"  # any value works: the local API only checks it matches
CONSOLE_URL = "https://console.local/"
HISTORY_KEPT = 200  # channel messages kept between sessions (the newest)

Emit = Callable[[str], None]


def _indent(text: str, prefix: str = "  ") -> str:
    return "\n".join(prefix + line if line else line for line in text.splitlines())


class WebApi(LocalSlack):
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
        # strict: only what the console issued exists; everyone is an admin of their console
        super().__init__(
            Workspace(team_id, "Console", CONSOLE_URL),
            token=token,
            strict=True,
            admins_by_default=True,
        )
        self._print = emit
        self._held: list[str] | None = None  # output kept back until a request's ack is shown
        self.style = style
        self.show_home = False  # print the next views.publish in full (the `home` command)
        self._shown: list[tuple[str, ...]] = []  # surfaces, last shown last
        self._history = history  # where channel messages are kept between sessions
        # After `messages`: the buttons it listed (surface, button), until more is shown.
        self._listing: list[tuple[Surface, Button]] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle (called from the console's thread) ------------------------------------

    def start(self) -> None:
        self._load_history()
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._thread = threading.Thread(target=loop.run_forever, name="console-webapi", daemon=True)
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self.listen(), loop).result(timeout=30)

    def stop(self) -> None:
        if self._loop is None:
            return
        asyncio.run_coroutine_threadsafe(self.close(), self._loop).result(30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(timeout=30)
        self._loop.close()
        self._loop = None

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

    def add_member(self, channel: str, user: str) -> None:
        with self._lock:
            members = self.channel_members.setdefault(channel, [BOT_USER])
            if user not in members:
                members.append(user)
                members.sort()

    def clickable(self) -> tuple[Surface, tuple[Button, ...]] | None:
        """The surface with buttons shown last (a message, an open modal, a home tab)."""
        with self._lock:
            for key in reversed(self._shown):
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
            newest_first = sorted(self._messages.values(), key=lambda m: -m.number)
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
            stack = self._modal_stack
            return dict(self._views[stack[-1]]) if stack else None

    def home_view(self, user: str) -> JSON | None:
        with self._lock:
            view_id = self._homes.get(user)
            return dict(self._views[view_id]) if view_id else None

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
            stack = self._modal_stack
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
            stack = self._modal_stack
            if not stack:
                return None
            closed = dict(self._views[stack.pop()])
            self.emit(self.style.dim("(modal closed)"))
            if stack:
                self._mark_shown(("view", stack[-1]))
                self.emit(render_view(self._views[stack[-1]], self.style).text)
            return closed

    # --- surfaces --------------------------------------------------------------------------

    def _surface(self, key: tuple[str, ...]) -> tuple[Surface, tuple[Button, ...]] | None:
        if key[0] == "msg":
            message = self._messages.get((key[1], key[2]))
            if message is None:
                return None
            rendered = render_message(message.body, self.style)
            surface: Surface = MessageSurface(
                message.channel, message.ts, message.body, message.ephemeral_to is not None
            )
            return surface, rendered.buttons
        view = self._views.get(key[1])
        if view is None:
            return None
        if view.get("type") != "home" and key[1] not in self._modal_stack:
            return None
        return ViewSurface(view), render_view(view, self.style).buttons

    def _mark_shown(self, key: tuple[str, ...]) -> None:
        self._listing = None
        shown = self._shown
        if key in shown:
            shown.remove(key)
        shown.append(key)

    @staticmethod
    def _name(message: Message) -> str:
        if message.ephemeral_to:
            return f"only visible to @{message.ephemeral_to}"
        return f"message {message.number}"

    # --- what the local Slack shows --------------------------------------------------------

    def _on_message(self, message: Message, change: Change) -> None:
        if change == "deleted":
            self.emit(self.style.dim(f"({self._name(message)} deleted)"))
        else:
            self._mark_shown(("msg", message.channel, message.ts))
            note = " (edited)" if change == "edited" else ""
            where = f"#{message.channel}"
            who = self.style.bold(BOT_NAME)
            label = self._name(message)
            head = self.style.dim(f"── {where} · ") + who + self.style.dim(f" · {label}{note}")
            rendered = render_message(message.body, self.style)
            self.emit(head + "\n" + _indent(rendered.text or "(empty message)"))
        self._save_history()

    def _on_modal_shown(self, view: JSON) -> None:
        self._mark_shown(("view", view["id"]))
        self.emit(render_view(view, self.style).text)

    def _on_home_published(self, user: str, view: JSON) -> None:
        if self.show_home:
            self.show_home = False
            self._mark_shown(("view", view["id"]))
            self.emit(render_view(view, self.style).text)
        else:
            self.emit(self.style.dim(f"(home tab of @{user} updated; `home` shows it)"))

    def _on_refused(self, what: str, problems: list[str]) -> None:
        lines = "\n".join(f"  {p}" for p in problems)
        self.emit(
            self.style.bold(f"Slack would refuse this {what} (invalid_blocks):") + "\n" + lines
        )

    def _on_unsimulated(self, method: str) -> None:
        self.emit(self.style.dim(f"(console: {method} is not simulated; answered ok)"))

    # --- history ---------------------------------------------------------------------------

    def _load_history(self) -> None:
        if self._history is None or not self._history.exists():
            return
        try:
            saved = json.loads(self._history.read_text())
            messages = [
                Message(int(m["number"]), str(m["channel"]), str(m["ts"]), dict(m["body"]))
                for m in saved["messages"]
            ]
            next_number, ts_serial = int(saved["next_number"]), int(saved["ts_serial"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ConfigError(
                f"{self._history} is not a console history ({exc.__class__.__name__}): "
                "move it away to start with no earlier messages."
            ) from None
        self._messages = {(m.channel, m.ts): m for m in messages}
        self._next_number, self._ts_serial = next_number, ts_serial

    def _save_history(self) -> None:
        if self._history is None:
            return
        kept = sorted(
            (m for m in self._messages.values() if not m.ephemeral_to),
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
