"""The HTTP edge of ``POST /slack/events``, before and after Bolt sees a request.

- ``slack_guard(path)``: an aiohttp middleware that gives each request its request id, answers
  503 once the server is draining (``Gate``), refuses a body over ``MAX_BODY_BYTES`` (413) from
  its Content-Length before reading it (aiohttp's ``client_max_size`` stops a chunked one while
  reading), refuses signing headers that are missing (401) or not of Slack's shape (400) before
  Bolt's verifier sees them (it raises on a timestamp that is not a number), and turns a body
  that cannot be parsed into a 400 instead of a 500.
- ``parse_slack_request``: Bolt's request, refused (400) when the payload's shape would make
  Bolt's own helpers raise (``bot.core.limits.shape_errors``).
- ``observe_request``: one log line and the request metrics per Slack request.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Middleware
from slack_bolt.adapter.aiohttp import to_bolt_request
from slack_bolt.request.async_request import AsyncBoltRequest

from bot.core.limits import MAX_BODY_BYTES, shape_errors
from bot.ops import metrics
from bot.ops.logs import new_request_id

log = logging.getLogger("transition_bot.http")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
# What a body that is not a Slack payload makes Bolt's parsing raise (LookupError: KeyError,
# IndexError, and a Content-Type charset Python does not know).
MALFORMED = (ValueError, TypeError, LookupError, AttributeError, RecursionError)


# What Slack sends: a Unix time in seconds, and ``v0=`` with a hex SHA-256 HMAC.
_TIMESTAMP = re.compile(r"^[0-9]{1,12}$")
_SIGNATURE = re.compile(r"^v0=[0-9a-f]{64}$")


def signing_header_error(headers: Any) -> tuple[int, str] | None:
    """(status, why) when the signing headers cannot be checked (missing or a signature that
    cannot match: 401; a timestamp that is not a number: 400); None when they are of
    Slack's shape (Bolt then checks the signature itself: 401 when it does not match or the
    time is more than 5 minutes off)."""
    timestamps = headers.getall("X-Slack-Request-Timestamp", [])
    signatures = headers.getall("X-Slack-Signature", [])
    if not timestamps or not signatures:
        return 401, "A Slack request is signed: X-Slack-Request-Timestamp and X-Slack-Signature."
    if len(timestamps) > 1 or len(signatures) > 1:
        return 400, "One X-Slack-Request-Timestamp and one X-Slack-Signature, not several."
    if not _TIMESTAMP.match(timestamps[0]):
        return 400, "X-Slack-Request-Timestamp is not a Unix time in seconds."
    if not _SIGNATURE.match(signatures[0]):  # cannot match: refused as a wrong signature is
        return 401, "X-Slack-Signature is not of Slack's form v0=<64 hex digits>."
    return None


class Malformed(ValueError):
    """The body is not a Slack payload this app serves (answered 400)."""


async def parse_slack_request(request: web.Request) -> AsyncBoltRequest:
    """Bolt's request from aiohttp's, refused (``Malformed``) when its shape would make
    Bolt's payload helpers fail."""
    bolt_request = await to_bolt_request(request)
    errors = shape_errors(bolt_request.body)
    if errors:
        raise Malformed("; ".join(errors))
    return bolt_request


class Gate:
    """Whether the server takes new Slack work; closed when it starts shutting down."""

    def __init__(self) -> None:
        self.open = True

    def close(self) -> None:
        self.open = False


GATE = web.AppKey("gate", Gate)


def _refuse(status: int, text: str, started: float) -> web.Response:
    metrics.SLACK_REQUESTS.labels(kind="unknown", outcome=str(status)).inc()
    metrics.ACK_LATENCY.observe(time.perf_counter() - started)
    log.info("slack request refused: %d %s", status, text)
    return web.Response(status=status, text=text)


def slack_guard(path: str) -> Middleware:
    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path != path:
            return await handler(request)
        started = time.perf_counter()
        new_request_id()
        gate = request.app.get(GATE)
        if gate is not None and not gate.open:
            response = _refuse(503, "Shutting down; Slack will retry on another replica.", started)
            response.headers["Retry-After"] = "1"
            return response
        if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
            return _refuse(413, f"A Slack request is at most {MAX_BODY_BYTES} bytes.", started)
        unsigned = signing_header_error(request.headers)
        if unsigned is not None:
            return _refuse(*unsigned, started)
        try:
            return await handler(request)
        except Malformed as exc:
            return _refuse(400, f"Not a Slack request this app takes: {exc}.", started)
        except MALFORMED as exc:
            return _refuse(400, f"Not a Slack request body ({type(exc).__name__}).", started)

    return guard


def printable(value: object, limit: int = 40) -> str:
    """Text from a payload made safe for one log line: no line breaks or control characters
    (a typed newline must not forge a second line), and short."""
    text = str(value)[:limit]
    return text if text.isprintable() else "".join(ch if ch.isprintable() else "?" for ch in text)


def describe(body: Any) -> tuple[str, str]:
    """(kind, what) of a parsed Slack body, for the log line and the metric label."""
    if not isinstance(body, dict):
        return "other", "-"
    if "command" in body:
        text = body.get("text")
        word = text.strip().split(" ", 1)[0] if isinstance(text, str) else ""
        return "command", f"{printable(body.get('command'), 20)} {printable(word, 20)}".strip()
    kind = body.get("type")
    if kind == "block_actions":
        actions = body.get("actions")
        first = actions[0] if isinstance(actions, list) and actions else {}
        action_id = first.get("action_id") if isinstance(first, dict) else None
        return "action", printable(action_id)
    if kind in ("view_submission", "view_closed"):
        view = body.get("view")
        return "view", printable(view.get("callback_id") if isinstance(view, dict) else None)
    if kind == "event_callback":
        event = body.get("event")
        return "event", printable(event.get("type") if isinstance(event, dict) else None)
    return "other", printable(kind)


def observe_request(bolt_request: AsyncBoltRequest, status: int, seconds: float) -> None:
    kind, what = describe(bolt_request.body)
    outcome = "ok" if status < 400 else str(status)
    metrics.SLACK_REQUESTS.labels(kind=kind, outcome=outcome).inc()
    metrics.ACK_LATENCY.observe(seconds)
    retries = bolt_request.headers.get("x-slack-retry-num") or []
    retry = retries[0] if retries else None
    log.info(
        "slack %s %s -> %d in %.0f ms%s",
        kind,
        what,
        status,
        seconds * 1000,
        f" (retry {retry})" if retry else "",
    )
