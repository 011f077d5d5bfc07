"""The tests' Slack Web API: ``LocalSlack`` (bot/console/local_slack.py, the console's Slack
too) served on 127.0.0.1, port 0, with what a test needs on top.

One ``FakeSlack`` per test (the ``fake_slack`` fixture); no class-level state. Point the bot's
``SLACK_API_URL`` at ``fake.api_url`` and it talks to this server instead of slack.com.

``LocalSlack`` answers the methods the bot uses as Slack does (messages kept, so
``chat.postMessage`` returns channel + ts and ``conversations.history`` lists what was posted,
with its metadata; ``views.*``, ``users.info`` from ``fake.users``, ``conversations.members``
paged from ``fake.channel_members``, ``conversations.info`` with ``fake.channel_hosts``,
``not_in_channel`` for ``fake.channels_without_bot``…), refuses blocks Slack would refuse
(``invalid_blocks``) and unknown tokens (``invalid_auth``). Here it is not strict: it takes any
trigger_id, view id, message ts or response_url a hand-made payload names. On top, this:

- records every call as an ``ApiCall`` (method, token, params, answer) in ``fake.calls``, POSTs
  to a ``response_url`` (``fake.response_url()``) as calls with method ``"response_url"`` (so
  ``respond()`` is visible like any other call);
- ``oauth.v2.access`` installs and refreshes per workspace (``fake.oauth``,
  tests/support/fake_slack_oauth.py), whose tokens are accepted alongside ``fake.token``;
  ``apps.connections.open`` and its websocket (``fake.socket``);
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
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from bot.console.blockkit import block_problems, view_problems
from bot.console.local_slack import BOT_USER, LocalSlack, Workspace, bearer_token, request_params
from tests.support.fake_slack_oauth import FakeOAuth
from tests.support.fake_socket_mode import FakeSocketMode

DEFAULT_TOKEN = "xoxb-test-token"
DEFAULT_TEAM = "T0TEST"
__all__ = [
    "BOT_USER",
    "DEFAULT_TEAM",
    "DEFAULT_TOKEN",
    "ApiCall",
    "BlockKitError",
    "FakeSlack",
    "Outage",
    "validate_blocks",
    "validate_view",
]


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


def validate_blocks(blocks: Any) -> None:
    """Raise ``BlockKitError`` for message blocks Slack would refuse."""
    problems = block_problems(blocks)
    if problems:
        raise BlockKitError("; ".join(problems))


def validate_view(view: Any) -> None:
    """Raise ``BlockKitError`` for a view Slack would refuse."""
    problems = view_problems(view)
    if problems:
        raise BlockKitError("; ".join(problems))


class FakeSlack(LocalSlack):
    """The fake Web API. Start it with ``await fake.start()`` (the fixture does)."""

    def __init__(self, token: str = DEFAULT_TOKEN, team_id: str = DEFAULT_TEAM) -> None:
        super().__init__(
            Workspace(team_id, "Test", "https://test.slack.com/"),
            token=token,
            strict=False,
            admins_by_default=False,
        )
        self.calls: list[ApiCall] = []
        self._failures: dict[str, list[_Failure]] = {}
        self.outage: Outage | None = None
        # OAuth installs: oauth.v2.access codes/refreshes and the bot tokens handed out.
        self.oauth = FakeOAuth()
        # Socket Mode: apps.connections.open and the websocket it hands out.
        self.socket = FakeSocketMode()

    # --- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        await self.listen()
        self.socket.base_url = self.base_url

    def web_app(self) -> web.Application:
        app = super().web_app()
        self.socket.add_routes(app)
        return app

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

    def delivered(self, method: str = "chat.postMessage") -> list[ApiCall]:
        """Calls the fake answered with ``ok: true``."""
        return [c for c in self.calls_to(method) if c.answer.get("ok")]

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

    def accepts(self, token: str | None) -> bool:
        return token == self.token or token in self.oauth.tokens

    async def _handle_api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await request_params(request)
        token = bearer_token(request, params)
        call = ApiCall(method, token, params)
        self.calls.append(call)
        if self.outage is not None:
            call.status = self.outage.status
            return web.Response(
                status=self.outage.status,
                text=self.outage.body,
                content_type=self.outage.content_type,
            )
        headers: dict[str, str] = {}
        if method == "oauth.v2.access":  # client id/secret in Basic auth, not a bearer token
            call.token = None
            await asyncio.sleep(self.oauth.delay)  # widens races in concurrency tests
            await self.oauth.pass_gate()
            failure = self._take_failure(method)
            if failure is not None:
                call.status, call.answer, headers = self._failure_answer(failure)
            else:
                call.answer = self.oauth.access(request.headers.get("Authorization", ""), params)
        elif method == "apps.connections.open":  # the app-level token, not the bot's
            call.answer = self.socket.open_connection(token)
        elif (failure := self._take_failure(method)) is not None:
            call.status, call.answer, headers = self._failure_answer(failure)
        elif method == "auth.test" and token in self.oauth.tokens:
            call.answer = self.oauth.auth_test(token)
        else:
            call.answer = self.call(method, token, params)
        return web.json_response(call.answer, status=call.status, headers=headers)

    async def _handle_response_url(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.calls.append(ApiCall("response_url", None, {"response_url": str(request.url), **body}))
        status, text = self.respond(request.match_info["key"], body)
        return web.Response(status=status, text=text)

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
