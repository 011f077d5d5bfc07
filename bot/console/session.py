"""One console session: the real Bolt app, fed signed requests, talking to the local Web API.

Every command, click and submission is built as Slack builds it (``payloads``), signed with this
session's random signing secret and dispatched through ``AsyncApp.async_dispatch``: the same
middleware (signature verification included), listeners and services as in production. After
each request the session waits until the bot's own tasks (the work Bolt continues after the
ack) are done, so what the bot posts is printed before the next prompt.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import secrets
from pathlib import Path
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from bot.app.assembly import build_app
from bot.app.runtime import Runtime
from bot.console import forms, payloads
from bot.console.local_slack import BOT_USER
from bot.console.payloads import (
    DEFAULT_CHANNEL,
    DEFAULT_TEAM,
    DEFAULT_USER,
    ConsoleUser,
    MessageSurface,
    ViewSurface,
)
from bot.console.render import Button, Style
from bot.console.webapi import BOT_TOKEN, Emit, WebApi
from bot.ops.config import Settings
from storage.database import Database

JSON = dict[str, Any]
# How long to wait for the bot's follow-up work (a DNS audit against the internet can be slow).
SETTLE_SECONDS = 60.0


class ConsoleError(Exception):
    """Something the person typed cannot be done; the message says why and what to do."""


def console_settings(base: Settings, *, api_url: str, signing_secret: str) -> Settings:
    """``base`` with Slack pointed at the local Web API: a fixed local token, this session's
    signing secret, no OAuth or Socket Mode credentials."""
    return dataclasses.replace(
        base,
        slack_bot_token=BOT_TOKEN,
        slack_signing_secret=signing_secret,
        slack_api_url=api_url,
        slack_app_token=None,
        slack_client_id=None,
        slack_client_secret=None,
        slack_state_secret=None,
    )


def _ack_body(response: BoltResponse) -> JSON:
    body = response.body or ""
    if not body:
        return {}
    if body.startswith("{"):
        parsed = json.loads(body)
        return parsed if isinstance(parsed, dict) else {}
    return {"text": body}


class ConsoleSession:
    """``async with ConsoleSession(settings, emit, style) as s: await s.command("/transition")``"""

    def __init__(
        self,
        settings: Settings,
        emit: Emit,
        style: Style,
        *,
        user: str = DEFAULT_USER,
        channel: str = DEFAULT_CHANNEL,
        settle_seconds: float = SETTLE_SECONDS,
        history: Path | None = None,
    ) -> None:
        self.base_settings = settings
        self.emit = emit
        self.style = style
        self.actor = ConsoleUser(team_id=DEFAULT_TEAM, user_id=user, channel_id=channel)
        self.settle_seconds = settle_seconds
        self.webapi = WebApi(emit, style, team_id=DEFAULT_TEAM, history=history)
        self._signing_secret = secrets.token_hex(32)
        self._app: AsyncApp | None = None
        self.runtime: Runtime | None = None
        self._database: Database | None = None
        self._baseline: set[asyncio.Task[Any]] = set()
        self._typed: dict[str, dict[str, str]] = {}  # view id -> fields typed into it so far

    async def __aenter__(self) -> ConsoleSession:
        self.webapi.start()
        try:
            settings = console_settings(
                self.base_settings,
                api_url=self.webapi.api_url,
                signing_secret=self._signing_secret,
            )
            self._database = Database(settings.database_url)
            # Same schema as `serve`: the default SQLite file is created or upgraded on start.
            await self._database.upgrade()
            self.runtime = Runtime(settings=settings, database=self._database)
            self._app = build_app(self.runtime)
        except BaseException:
            await self._shutdown()
            raise
        self.webapi.add_member(self.actor.channel_id, self.actor.user_id)
        self._baseline = set(asyncio.all_tasks())
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.settle()
        await self._shutdown()

    async def _shutdown(self) -> None:
        if self._database is not None:
            await self._database.dispose()
            self._database = None
        self.webapi.stop()

    # --- who and where ---------------------------------------------------------------------

    def act_as(self, user: str) -> None:
        self.actor = dataclasses.replace(self.actor, user_id=user)
        self.webapi.add_member(self.actor.channel_id, user)

    def move_to(self, channel: str) -> None:
        self.actor = dataclasses.replace(self.actor, channel_id=channel, channel_name=channel)
        self.webapi.add_member(channel, self.actor.user_id)

    # --- requests --------------------------------------------------------------------------

    async def command(self, line: str) -> None:
        """``/transition start contoso.com`` as Slack would post it."""
        command, _, text = line.strip().partition(" ")
        actor = self.actor
        body = payloads.command_body(
            actor,
            command,
            text.strip(),
            response_url=self.webapi.response_url(actor.channel_id, actor.user_id),
            trigger_id=self.webapi.issue_trigger_id(),
        )
        self.webapi.hold_output()  # the ack is shown first, as Slack does
        try:
            response = await self._dispatch(body)
            if response.status != 200:
                self._refused(f"{command} failed with the error “dispatch_failed”", response)
            else:
                ack = _ack_body(response)
                if ack:
                    self.webapi.show_ack(actor.channel_id, actor.user_id, ack)
        finally:
            self.webapi.release_output()
        await self.settle()

    def _find_button(self, which: str) -> tuple[Button, MessageSurface | ViewSurface]:
        found = self.webapi.buttons_to_click()
        if not found:
            raise ConsoleError(
                "No message with buttons yet: run a /transition command first, "
                "or `messages` to show earlier ones."
            )
        if which.isdigit():
            number = int(which)
            for surface, button in found:
                if button.number == number:
                    return button, surface
            raise ConsoleError(
                f"No button [{number}]: the ones shown last are [1] to [{len(found)}]."
            )
        matches = [(s, b) for s, b in found if b.text.casefold() == which.casefold()]
        if len(matches) != 1:
            labels = ", ".join(f"[{b.number}] {b.text}" for _, b in found)
            why = "Several buttons" if matches else "No button"
            raise ConsoleError(f"{why} called {which!r}; use one of: {labels}")
        surface, button = matches[0]
        return button, surface

    def messages(self, limit: int) -> None:
        """Show this channel's recent messages with buttons again (kept between sessions)."""
        channel = self.actor.channel_id
        if not self.webapi.list_messages(channel, limit):
            self.emit(f"No message with buttons in #{channel} yet.")

    async def click(self, which: str) -> None:
        """Press button ``which`` (its number, or its label) of the last message with buttons."""
        button, surface = self._find_button(which)
        if button.is_menu:
            raise ConsoleError(f"[{button.number}] is a menu: type `pick {button.number} VALUE`.")
        if button.confirm:
            self.emit(self.style.dim(f"(asks “{button.confirm}” — confirmed)"))
        if button.url:
            self.emit(self.style.dim(f"(opens {button.url})"))
        await self._use(button, surface, None)

    async def pick(self, which: str, chosen: str) -> None:
        """Choose ``chosen`` in menu ``which`` of the last message with buttons and menus."""
        button, surface = self._find_button(which)
        if not button.is_menu:
            raise ConsoleError(f"[{button.number}] is a button: type `click {button.number}`.")
        await self._use(button, surface, chosen)

    async def _use(
        self, button: Button, surface: MessageSurface | ViewSurface, chosen: str | None
    ) -> None:
        actor = self.actor
        response_url = None
        if isinstance(surface, MessageSurface):
            response_url = self.webapi.response_url(surface.channel_id, actor.user_id, surface.ts)
            actor = dataclasses.replace(actor, channel_id=surface.channel_id)
        try:
            payload = payloads.block_actions_payload(
                actor,
                button,
                surface,
                response_url=response_url,
                chosen=chosen,
                trigger_id=self.webapi.issue_trigger_id(),
            )
        except forms.FormError as exc:
            raise ConsoleError(str(exc)) from None
        response = await self._dispatch(payloads.interaction_body(payload))
        if response.status != 200:
            self._refused("Slack would show a warning sign on it", response)
        await self.settle()

    async def submit(self, typed: dict[str, str]) -> None:
        """Submit the open modal with ``typed`` (field name -> value) over its initial values."""
        view = self.webapi.open_modal()
        if view is None:
            raise ConsoleError("No modal is open.")
        if not view.get("submit"):
            raise ConsoleError("This modal has no submit button: `close` it.")
        # As in Slack, what was typed stays in the modal when a submission is sent back.
        view_id = str(view.get("id", ""))
        typed = {**self._typed.get(view_id, {}), **typed}
        try:
            values = forms.state_values(view, typed)
        except forms.FormError as exc:
            raise ConsoleError(str(exc)) from None
        payload = payloads.view_submission_payload(
            self.actor, view, values, trigger_id=self.webapi.issue_trigger_id()
        )
        self.webapi.hold_output()  # the ack (modal closed, errors) is shown first
        try:
            response = await self._dispatch(payloads.interaction_body(payload))
            if response.status != 200:
                self._refused("Slack would show “We had some trouble connecting”", response)
            else:
                self.webapi.apply_submission_ack(_ack_body(response))
        finally:
            self.webapi.release_output()
        still_open = self.webapi.open_modal()
        self._typed = {view_id: typed} if still_open and still_open.get("id") == view_id else {}
        await self.settle()

    async def close(self) -> None:
        """Close the open modal (Cancel); the app hears of it when it asked to be notified."""
        view = self.webapi.close_modal()
        if view is None:
            raise ConsoleError("No modal is open.")
        if view.get("notify_on_close"):
            payload = payloads.view_closed_payload(self.actor, view)
            await self._dispatch(payloads.interaction_body(payload))
            await self.settle()

    async def home(self) -> None:
        """Open the App Home tab: Slack sends ``app_home_opened`` and shows what is published."""
        self.webapi.show_home = True
        envelope = payloads.event_envelope(
            self.actor,
            {"type": "app_home_opened", "user": self.actor.user_id, "tab": "home"},
            bot_user_id=BOT_USER,
        )
        body = json.dumps(envelope)
        response = await self._dispatch(body, content_type="application/json")
        if response.status != 200:
            self._refused("the home tab did not load", response)
        await self.settle()
        self.webapi.show_home = False

    # --- plumbing --------------------------------------------------------------------------

    def _refused(self, what: str, response: BoltResponse) -> None:
        self.emit(self.style.bold(f"{what} (HTTP {response.status} from the app)"))

    async def _dispatch(self, body: str, *, content_type: str = payloads.FORM) -> BoltResponse:
        assert self._app is not None, "use the session inside `async with`"
        headers = payloads.signed_headers(self._signing_secret, body, content_type=content_type)
        request = AsyncBoltRequest(body=body, headers=dict(headers))
        return await self._app.async_dispatch(request)

    async def settle(self) -> None:
        """Wait until the work the bot started after its acks is done (or the time is up)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.settle_seconds
        current = asyncio.current_task()
        while True:
            pending = {
                t
                for t in asyncio.all_tasks()
                if t is not current and t not in self._baseline and not t.done()
            }
            if not pending:
                return
            remaining = deadline - loop.time()
            if remaining <= 0:
                self.emit(self.style.dim("(the bot is still working; its answer will follow)"))
                self._baseline |= pending
                return
            await asyncio.wait(pending, timeout=remaining)
