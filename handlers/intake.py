"""What every verified Slack request passes before a listener sees it (a Bolt global middleware,
so it runs after Bolt has checked the signature and authorized the request):

- the payload is bounded (bot.core.limits.cap): no string, list or nesting beyond what Slack sends;
- a request whose workspace, user or channel ids (or event id) are not Slack's is refused (400);
- an Events API delivery whose ``event_id`` was already taken (Slack's retries, on this replica
  or another on the same database) is acked with 200 and goes no further; an uninstall is
  recorded in the same transaction as its event id (bot.slack.workspaces.take_event);
- what a middleware raises is answered by ``handlers.guard.middleware_error`` (an unreachable
  database: the user is told; an event is acked, and an uninstall held until it is back).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.middleware.async_middleware import AsyncMiddleware
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from bot.app.runtime import Runtime
from bot.core.limits import bad_ids, cap, shape_errors
from bot.ops.logs import new_request_id
from bot.slack.http_guard import describe
from bot.slack.workspaces import take_event
from handlers.guard import middleware_error

log = logging.getLogger(__name__)

Next = Callable[[], Awaitable[BoltResponse]]


def register(app: AsyncApp, runtime: Runtime) -> None:
    app.use(Intake(runtime))
    app.error(middleware_error(runtime))


class Intake(AsyncMiddleware):
    """A middleware object, not a function: Bolt builds a function middleware's arguments
    from the payload (``body["actions"][0]``...), which is what this checks first."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    async def async_process(
        self, *, req: AsyncBoltRequest, resp: BoltResponse, next: Next
    ) -> BoltResponse | None:
        return await check_request(req, resp, next, self.runtime)


async def check_request(
    req: AsyncBoltRequest, resp: BoltResponse, next: Next, runtime: Runtime
) -> BoltResponse | None:
    body = req.body
    if req.mode == "socket_mode":  # HTTP requests got these at the edge (bot.slack.http_guard)
        new_request_id()
        kind, what = describe(body)
        log.info("slack %s %s (socket mode)", kind, what)
        errors = shape_errors(body)
        if errors:
            log.info("refused a socket mode payload: %s", "; ".join(errors))
            return BoltResponse(status=400, body="; ".join(errors))
    if not isinstance(body, dict):
        return BoltResponse(status=400, body="A Slack request body is a JSON object or a form.")
    bounded: dict[str, Any] = cap(body)
    body.clear()
    body.update(bounded)
    bad = bad_ids(body)
    if bad:
        log.info("refused a request with malformed ids: %s", ", ".join(bad))
        return BoltResponse(status=400, body=f"Malformed Slack ids: {', '.join(bad)}.")
    if body.get("type") == "event_callback" and not await take_event(runtime, body):
        retry = (req.headers.get("x-slack-retry-num") or ["-"])[0]
        log.info("event %s already taken; retry %s acked and dropped", body.get("event_id"), retry)
        return BoltResponse(status=200, body="")
    await next()
    return resp
