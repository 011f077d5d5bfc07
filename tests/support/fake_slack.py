"""A local fake of the Slack Web API: an aiohttp server on 127.0.0.1, port 0.

One ``FakeSlack`` per test (the ``fake_slack`` fixture); no class-level state. Point the bot's
``SLACK_API_URL`` at ``fake.api_url`` and it talks to this server instead of slack.com.

What it does:

- answers every ``POST /api/<method>`` (form or JSON bodies, like slack_sdk sends them) with a
  realistic response for the methods the bot uses (``chat.postMessage`` returns channel + ts,
  ``chat.update``, ``chat.postEphemeral``, ``views.open/update/publish``, ``users.info``,
  ``conversations.members``, ``conversations.info``, ``auth.test``…); unknown methods get
  ``{"ok": true}``; ``oauth.v2.access`` installs and refreshes per workspace (``fake.oauth``,
  tests/support/fake_slack_oauth.py), whose tokens are accepted alongside ``fake.token``;
- checks the bearer token (``invalid_auth`` otherwise) and validates ``blocks`` / ``view`` with
  slack_sdk's Block Kit models plus the size limits Slack enforces (``invalid_blocks``);
- records every call as an ``ApiCall`` (method, token, params) in ``fake.calls``;
- hands out ``response_url``s (``fake.response_url()``) and records POSTs to them as calls with
  method ``"response_url"`` (so ``respond()`` is visible like any other call);
- can be scripted per test: ``fake.fail_next("chat.postMessage", status=429, retry_after=1)``,
  ``fake.fail_next("chat.update", status=500, times=2)``,
  ``fake.fail_next("chat.postMessage", error="not_in_channel")`` (HTTP 200, ``ok: false``);
- can be down: ``fake.outage = Outage(503, "text/html", "<html>…")`` answers every Web API call
  so (Slack's edge and proxies answer 5xx with HTML or plain text, not JSON) until it is set
  back to ``None``;
- ``await fake.wait_for("chat.postMessage", lambda c: ..., timeout=60)`` polls until a matching
  call is recorded and returns it (no sleeps in tests, no timing assertions).

Example::

    async def test_post(fake_slack: FakeSlack) -> None:
        fake_slack.fail_next("chat.postMessage", status=429, retry_after=1)
        ... trigger the bot ...
        call = await fake_slack.wait_for("chat.postMessage", lambda c: c.params["channel"] == "C1")
        assert call.blocks[0]["type"] == "header"
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from tests.support.fake_slack_oauth import FakeOAuth
from tests.support.fake_socket_mode import FakeSocketMode

DEFAULT_TOKEN = "xoxb-test-token"
DEFAULT_TEAM = "T0TEST"
BOT_USER = "U0BOT"
BOT_ID = "B0BOT"

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_SECTION_TEXT = 3000
MAX_HEADER_TEXT = 150
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_ACTION_ID = 255


class BlockKitError(ValueError):
    """The blocks would be refused by Slack (``invalid_blocks``)."""


@dataclass(eq=False)
class ApiCall:
    """One recorded request. ``params`` merges query, form and JSON body (JSON-ish values such
    as ``blocks`` sent as a form string are decoded); ``answer`` is the JSON the fake replied
    (e.g. ``call.answer["ts"]`` of a chat.postMessage), ``status`` its HTTP status."""

    method: str
    token: str | None
    params: dict[str, Any]
    at: float = field(default_factory=time.monotonic)
    answer: dict[str, Any] = field(default_factory=dict)
    status: int = 200

    @property
    def blocks(self) -> list[dict[str, Any]]:
        blocks = self.params.get("blocks") or []
        return list(blocks)

    @property
    def text(self) -> str:
        """The message text plus every text in its blocks, for substring assertions."""
        parts = [str(self.params.get("text") or "")]
        parts.extend(_texts(self.params.get("blocks") or []))
        if isinstance(self.params.get("view"), dict):
            parts.extend(_texts(self.params["view"].get("blocks", [])))
        return "\n".join(p for p in parts if p)


@dataclass(frozen=True)
class Outage:
    """What every Web API call gets while Slack is down: a status and a raw body."""

    status: int
    content_type: str
    body: str


@dataclass
class _Failure:
    status: int
    retry_after: int | None
    error: str | None
    remaining: int


def _texts(node: Any) -> Iterable[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "text" and isinstance(value, str):
                yield value
            else:
                yield from _texts(value)
    elif isinstance(node, list):
        for item in node:
            yield from _texts(item)


def validate_blocks(blocks: Any, *, limit: int = MAX_MESSAGE_BLOCKS) -> None:
    """Raise ``BlockKitError`` for blocks Slack would refuse (the limits we can hit)."""
    if not isinstance(blocks, list):
        raise BlockKitError("blocks must be a list")
    if len(blocks) > limit:
        raise BlockKitError(f"{len(blocks)} blocks > {limit}")
    for index, raw in enumerate(blocks):
        if not isinstance(raw, dict) or "type" not in raw:
            raise BlockKitError(f"block {index} has no type")
        block = Block.parse(raw)
        if block is None:
            raise BlockKitError(f"block {index}: unknown type {raw.get('type')!r}")
        try:
            block.validate_json()
        except Exception as exc:  # slack_sdk raises SlackObjectFormationError
            raise BlockKitError(f"block {index}: {exc}") from exc
        _check_limits(index, raw)


def _check_limits(index: int, raw: dict[str, Any]) -> None:
    kind = raw["type"]
    if kind == "section":
        text = (raw.get("text") or {}).get("text", "")
        if len(text) > MAX_SECTION_TEXT:
            raise BlockKitError(f"block {index}: section text {len(text)} > {MAX_SECTION_TEXT}")
        if not text and not raw.get("fields"):
            raise BlockKitError(f"block {index}: section needs text or fields")
        for f in raw.get("fields") or []:
            if len(f.get("text", "")) > 2000:
                raise BlockKitError(f"block {index}: field text > 2000")
    if kind == "header" and len(raw["text"].get("text", "")) > MAX_HEADER_TEXT:
        raise BlockKitError(f"block {index}: header text > {MAX_HEADER_TEXT}")
    for element in raw.get("elements") or []:
        if element.get("type") == "button":
            label = element.get("text", {}).get("text", "")
            if len(label) > MAX_BUTTON_TEXT:
                raise BlockKitError(f"block {index}: button text {len(label)} > {MAX_BUTTON_TEXT}")
            if len(element.get("value", "")) > MAX_BUTTON_VALUE:
                raise BlockKitError(f"block {index}: button value > {MAX_BUTTON_VALUE}")
        if len(element.get("action_id", "")) > MAX_ACTION_ID:
            raise BlockKitError(f"block {index}: action_id > {MAX_ACTION_ID}")


def validate_view(view: Any) -> None:
    if not isinstance(view, dict):
        raise BlockKitError("view must be an object")
    parsed = View(**view)
    try:
        parsed.validate_json()
    except Exception as exc:
        raise BlockKitError(f"view: {exc}") from exc
    validate_blocks(view.get("blocks", []), limit=MAX_VIEW_BLOCKS)


_JSON_PARAMS = ("blocks", "attachments", "view", "metadata", "user_ids")


class FakeSlack:
    """The fake Web API. Start it with ``await fake.start()`` (the fixture does)."""

    def __init__(self, token: str = DEFAULT_TOKEN, team_id: str = DEFAULT_TEAM) -> None:
        self.token = token
        self.team_id = team_id
        self.calls: list[ApiCall] = []
        # users.info answers: user id -> the "user" object; conversations.members per channel.
        self.users: dict[str, dict[str, Any]] = {}
        self.channel_members: dict[str, list[str]] = {}
        self.members_page_size = 1000  # conversations.members pages by this many (cursor)
        # Slack Connect: channel -> the team hosting it (conversations.info's
        # conversation_host_id); a channel not listed answers without one.
        self.channel_hosts: dict[str, str] = {}
        # Channels the bot is not in: chat.postMessage / chat.update answer not_in_channel.
        self.channels_without_bot: set[str] = set()
        self._failures: dict[str, list[_Failure]] = {}
        self.outage: Outage | None = None
        self._ts = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.base_url = ""
        # OAuth installs: oauth.v2.access codes/refreshes and the bot tokens handed out.
        self.oauth = FakeOAuth()
        # Socket Mode: apps.connections.open and the websocket it hands out.
        self.socket = FakeSocketMode()

    # --- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/api/{method}", self._handle_api)
        app.router.add_post("/response/{key}", self._handle_response_url)
        self.socket.add_routes(app)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://127.0.0.1:{port}"
        self.socket.base_url = self.base_url

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def api_url(self) -> str:
        """What ``SLACK_API_URL`` must be set to (slack_sdk appends the method name)."""
        return f"{self.base_url}/api/"

    def response_url(self) -> str:
        """A fresh ``response_url`` for a signed request; POSTs to it are recorded."""
        return f"{self.base_url}/response/{uuid.uuid4().hex}"

    # --- scripting -------------------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        *,
        status: int = 200,
        error: str | None = None,
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` with a failure.

        ``status=429`` answers ``ratelimited`` with ``Retry-After``; ``status=500`` a server
        error; ``status=200`` with ``error`` an ``{"ok": false, "error": ...}`` Slack error.
        """
        if status == 200 and error is None:
            raise ValueError("a 200 failure needs an error code")
        failure = _Failure(status, retry_after, error, times)
        self._failures.setdefault(method, []).append(failure)

    # --- reading ---------------------------------------------------------------------------

    def calls_to(self, method: str) -> list[ApiCall]:
        return [c for c in self.calls if c.method == method]

    async def wait_for(
        self,
        method: str,
        predicate: Callable[[ApiCall], bool] = lambda _c: True,
        timeout: float = 60.0,  # noqa: ASYNC109 (a polling deadline, read in the docstring)
    ) -> ApiCall:
        """Poll until a recorded call of ``method`` satisfies ``predicate``; return it."""
        deadline = time.monotonic() + timeout
        while True:
            for call in self.calls_to(method):
                if predicate(call):
                    return call
            if time.monotonic() > deadline:
                seen = [c.method for c in self.calls]
                raise AssertionError(f"no matching {method} call within {timeout}s; saw {seen}")
            await asyncio.sleep(0.02)

    # --- handlers --------------------------------------------------------------------------

    async def _params(self, request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query)
        if request.content_type == "application/json":
            body = await request.json() if request.can_read_body else {}
            params.update(body or {})
        else:
            form = await request.post()
            params.update({k: v for k, v in form.items() if isinstance(v, str)})
            for key in _JSON_PARAMS:
                if isinstance(params.get(key), str):
                    with contextlib.suppress(ValueError):
                        params[key] = json.loads(params[key])
        return params

    async def _handle_api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await self._params(request)
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else params.get("token")
        call = ApiCall(method, token, params)
        self.calls.append(call)
        if self.outage is not None:
            call.status = self.outage.status
            return web.Response(
                status=self.outage.status,
                text=self.outage.body,
                content_type=self.outage.content_type,
            )
        if method == "oauth.v2.access":  # client id/secret in Basic auth, not a bearer token
            call.token = None
            await asyncio.sleep(self.oauth.delay)  # widens races in concurrency tests
            failure = self._take_failure(method)
            call.status, call.answer, headers = (
                self._failure_answer(failure)
                if failure
                else (200, self.oauth.access(auth, params), {})
            )
            return web.json_response(call.answer, status=call.status, headers=headers)
        if method == "apps.connections.open":  # the app-level token, not the bot's
            call.answer = self.socket.open_connection(token)
            return web.json_response(call.answer)
        call.status, call.answer, headers = self._respond(method, token, params)
        return web.json_response(call.answer, status=call.status, headers=headers)

    def _respond(
        self, method: str, token: str | None, params: dict[str, Any]
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        failure = self._take_failure(method)
        if failure is not None:
            return self._failure_answer(failure)
        if token != self.token and token not in self.oauth.tokens:
            return 200, {"ok": False, "error": "invalid_auth"}, {}
        if method == "auth.test" and token in self.oauth.tokens:
            return 200, self.oauth.auth_test(token), {}
        try:
            if "blocks" in params:
                validate_blocks(params["blocks"])
            if "view" in params:
                validate_view(params["view"])
        except BlockKitError as exc:
            return 200, {"ok": False, "error": "invalid_blocks", "errors": [str(exc)]}, {}
        return 200, self._answer(method, params), {}

    async def _handle_response_url(self, request: web.Request) -> web.Response:
        body = await request.json()
        params = {"response_url": str(request.url), **body}
        self.calls.append(ApiCall("response_url", None, params))
        if "blocks" in body:
            try:
                validate_blocks(body["blocks"])
            except BlockKitError as exc:
                return web.Response(status=400, text=f"invalid_blocks: {exc}")
        return web.Response(text="ok")

    def _take_failure(self, method: str) -> _Failure | None:
        queue = self._failures.get(method)
        if not queue:
            return None
        failure = queue[0]
        failure.remaining -= 1
        if failure.remaining <= 0:
            queue.pop(0)
        return failure

    @staticmethod
    def _failure_answer(failure: _Failure) -> tuple[int, dict[str, Any], dict[str, str]]:
        if failure.status == 429:
            headers = {"Retry-After": str(failure.retry_after if failure.retry_after else 1)}
            return 429, {"ok": False, "error": "ratelimited"}, headers
        error = failure.error or ("internal_error" if failure.status >= 500 else "error")
        return failure.status, {"ok": False, "error": error}, {}

    def _next_ts(self) -> str:
        return f"{int(time.time())}.{next(self._ts):06d}"

    def _answer(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        channel = str(params.get("channel", ""))
        if method in ("chat.postMessage", "chat.update") and channel in self.channels_without_bot:
            return {"ok": False, "error": "not_in_channel"}
        if method == "auth.test":
            return {
                "ok": True,
                "url": "https://test.slack.com/",
                "team": "Test",
                "user": "transition-bot",
                "team_id": self.team_id,
                "user_id": BOT_USER,
                "bot_id": BOT_ID,
                "is_enterprise_install": False,
            }
        if method == "chat.postMessage":
            ts = self._next_ts()
            message = {"type": "message", "ts": ts, "text": params.get("text", "")}
            message["blocks"] = params.get("blocks", [])
            return {"ok": True, "channel": channel, "ts": ts, "message": message}
        if method == "chat.update":
            return {"ok": True, "channel": channel, "ts": params.get("ts"), "text": ""}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": self._next_ts()}
        if method in ("views.open", "views.update", "views.publish", "views.push"):
            view = dict(params.get("view") or {})
            view.setdefault("id", "V" + uuid.uuid4().hex[:10].upper())
            return {"ok": True, "view": view}
        if method == "users.info":
            user_id = str(params.get("user", ""))
            user = self.users.get(user_id, {"id": user_id, "name": user_id.lower(), "tz": "UTC"})
            return {"ok": True, "user": user}
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
            info: dict[str, Any] = {"id": channel, "name": channel.lower()}
            if channel in self.channel_hosts:
                host = self.channel_hosts[channel]
                info.update(is_ext_shared=True, conversation_host_id=host, context_team_id=host)
            return {"ok": True, "channel": info}
        if method == "conversations.join":
            self.channels_without_bot.discard(channel)
            return {"ok": True, "channel": {"id": channel}}
        return {"ok": True}
