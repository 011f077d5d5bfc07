"""Which workspace a request may act in (a Bolt global middleware, after Bolt's authorization).

- No workspace at all (an Enterprise Grid org-wide install sends some payloads with no team
  id): a clear answer instead of a request that silently matches nothing.
- Single-token mode (``SLACK_BOT_TOKEN``): the bot serves the one workspace its token belongs
  to (``auth.test``). A signed request from another team id is refused and says so, except in
  a Slack Connect channel that belongs to the installed workspace (``conversations.info``: the
  channel's host is the installed team); such a request then acts in the installed workspace.
- OAuth mode: each installation serves its own workspace (Bolt's authorize already refuses a
  workspace without one).

Modal submissions are left to the services (a modal carries the workspace it was opened in;
a forged one finds no tenant), and the install life-cycle events always pass.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.middleware.async_middleware import AsyncMiddleware
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.app.runtime import Runtime
from bot.slack.workspaces import ends_install, hosted_by

log = logging.getLogger(__name__)

Next = Callable[[], Awaitable[BoltResponse]]

OTHER_WORKSPACE = (
    ":no_entry: This Transition Bot serves one Slack workspace, and this request comes from "
    "another workspace ({team}). Nothing was done. Use it from the workspace it is installed "
    "in, or ask an admin of yours to install Transition Bot there."
)
NO_WORKSPACE = (
    ":no_entry: This request names no Slack workspace (an Enterprise Grid org-wide install "
    "sends some so). Transition Bot keeps each cutover in one workspace: run it from a channel "
    "of a workspace, or install it into that workspace. Nothing was done."
)
CACHE_SECONDS = 600.0  # how long a channel's host is remembered
CACHE_SIZE = 1000


def register(app: AsyncApp, runtime: Runtime) -> None:
    app.use(WorkspaceGate(runtime))


def _channel(body: dict[str, Any]) -> str:
    for found in (
        body.get("channel_id"),
        (body.get("channel") or {}).get("id") if isinstance(body.get("channel"), dict) else None,
        (body.get("container") or {}).get("channel_id")
        if isinstance(body.get("container"), dict)
        else None,
        (body.get("event") or {}).get("channel") if isinstance(body.get("event"), dict) else None,
    ):
        if isinstance(found, str) and found:
            return found
    return ""


def _act_in(body: dict[str, Any], team: str) -> None:
    """Make the payload name ``team`` where our handlers read the workspace."""
    if "command" in body or "team_id" in body:
        body["team_id"] = team
    if isinstance(body.get("team"), dict):
        body["team"]["id"] = team


class WorkspaceGate(AsyncMiddleware):
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._hosts: dict[str, tuple[bool, float]] = {}

    async def async_process(
        self, *, req: AsyncBoltRequest, resp: BoltResponse, next: Next
    ) -> BoltResponse | None:
        body = req.body if isinstance(req.body, dict) else {}
        kind = body.get("type")
        if kind in ("view_submission", "view_closed", "url_verification") or ends_install(
            body.get("event")
        ):
            return await next()
        context = req.context
        team = context.team_id or ""
        if not team:
            log.info(
                "refused a request that names no workspace (enterprise %s)", context.enterprise_id
            )
            return await self._refuse(req, NO_WORKSPACE)
        if self.runtime.settings.oauth_enabled:
            return await next()
        result = context.authorize_result
        installed = getattr(result, "team_id", None) or ""
        if not installed or team == installed:
            return await next()
        channel = _channel(body)
        if channel and await self._hosted_here(context.client, channel, installed):
            _act_in(body, installed)  # Slack Connect: a channel of the installed workspace
            return await next()
        log.info("refused a request from workspace %s (this bot serves %s)", team, installed)
        return await self._refuse(req, OTHER_WORKSPACE.format(team=team))

    async def _hosted_here(self, client: AsyncWebClient | None, channel: str, team: str) -> bool:
        cached = self._hosts.get(channel)
        if cached is not None and cached[1] > time.monotonic():
            return cached[0]
        if client is None:
            return False
        try:
            # POST like the bot's other calls (slack_sdk's wrapper would GET; Slack takes both)
            info = await client.api_call("conversations.info", params={"channel": channel})
            ours = hosted_by(info.get("channel"), team)
        except SlackApiError:
            ours = False  # our token cannot see it: not a channel of this workspace
        if len(self._hosts) >= CACHE_SIZE:
            self._hosts.clear()
        self._hosts[channel] = (ours, time.monotonic() + CACHE_SECONDS)
        return ours

    @staticmethod
    async def _refuse(req: AsyncBoltRequest, text: str) -> BoltResponse:
        body = req.body if isinstance(req.body, dict) else {}
        if body.get("type") == "event_callback":
            return BoltResponse(status=200, body="")  # not ours to act on; no retry wanted
        respond = req.context.respond
        if "command" not in body and respond is not None:  # a click: its HTTP body is not shown
            try:
                await respond(text=text, response_type="ephemeral", replace_original=False)
            except Exception:
                log.exception("could not tell the user why the request was refused")
        return BoltResponse(status=200, body={"response_type": "ephemeral", "text": text})
