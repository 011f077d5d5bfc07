"""Our listeners -> Bolt listeners: the runtime bound in, and a catch-all so that no exception
ever reaches Slack as a timeout or a traceback.

An unreachable database (storage.health) is not a bug: the user is told so in one sentence,
the log gets one line (no traceback), and the jobs' backoff hears of it too. The same holds
for an error raised before any listener runs (Bolt's middleware: the event dedupe, OAuth's
authorize), through ``middleware_error``.

A service's ``Refusal`` propagates to here and becomes the ephemeral "why and what to do"
message, so a listener only catches it where the answer differs (inline modal errors).

Every listener in handlers/ has the shape ``async def on_x(args: AsyncArgs, runtime: Runtime)``
and is registered as ``app.command(...)(listener(runtime, on_x))``. Bolt injects ``args``
(ack, respond, client, body, action, view, event, logger, context…).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.kwargs_injection.async_args import AsyncArgs
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from bot.app.runtime import Runtime
from bot.core.clock import utcnow
from bot.services.common import Refusal
from bot.slack.workspaces import ends_install
from handlers.replies import refuse
from storage.health import is_unreachable

log = logging.getLogger(__name__)

SORRY = "Something went wrong on my side and the request was not completed; try again."
DATABASE_AWAY = "I can't reach my database right now; nothing was changed, try again in a minute."

Listener = Callable[[AsyncArgs, Runtime], Awaitable[None]]
BoltListener = Callable[[AsyncArgs], Awaitable[None]]


def listener(runtime: Runtime, func: Listener) -> BoltListener:
    async def run(args: AsyncArgs) -> None:
        try:
            await func(args, runtime)
        except Refusal as refusal:  # understood, not allowed, nothing changed: say why
            await refuse(args, refusal)
        except Exception as error:
            if not is_unreachable(error):
                log.exception("listener %s failed", func.__name__)
                await apologize(args)
                return
            database_away(runtime, error, func.__name__)
            await apologize(args, DATABASE_AWAY)

    run.__name__ = run.__qualname__ = func.__name__  # Bolt logs listeners by name
    return run


def database_away(runtime: Runtime, error: BaseException, where: str) -> None:
    log.warning("%s: database unreachable (%s); the user was told", where, type(error).__name__)
    if runtime.database is not None:
        runtime.database.reachability.failed(error)


async def apologize(args: AsyncArgs, message: str = SORRY) -> None:
    """Tell the user, ephemerally, through whichever channel is still open: a command's ack
    (its text is shown); otherwise the response_url, after an empty ack (Slack shows nothing of
    a click's ack body)."""
    text = f":warning: {message}"
    try:
        unacked = args.ack is not None and args.ack.response is None
        errors = modal_errors(args.body, message)
        if unacked and errors is not None:
            await args.ack(response_action="errors", errors=errors)
            return
        if unacked and ("command" in args.body or args.respond is None):
            await args.ack(text=text)
            return
        if unacked:
            await args.ack()
        if args.respond is not None:
            await args.respond(text=text, response_type="ephemeral", replace_original=False)
    except Exception:
        log.exception("could not tell the user about the failure")


def modal_errors(body: Any, message: str) -> dict[str, str] | None:
    """A modal submission's answer: Slack shows nothing but errors on its inputs (a text in the
    ack reads as "trouble connecting"), so the message goes on the first input."""
    if not isinstance(body, dict) or body.get("type") != "view_submission":
        return None
    view = body.get("view")
    state = view.get("state") if isinstance(view, dict) else None
    values = state.get("values") if isinstance(state, dict) else None
    first = next(iter(values), None) if isinstance(values, dict) else None
    return {first: message} if isinstance(first, str) else None


def hold_event(runtime: Runtime, body: dict[str, Any]) -> None:
    event = body.get("event")
    kind = event.get("type") if isinstance(event, dict) else None
    if ends_install(event):
        runtime.held_events.hold(dict(body), utcnow())
        log.warning("event %s (%s) held until the database is back", body.get("event_id"), kind)
    else:
        log.info("event %s (%s) dropped: the database is away", body.get("event_id"), kind)


def middleware_error(runtime: Runtime) -> Any:
    """Bolt's error handler (``app.error``) for what a middleware raised: an unreachable
    database is answered as a listener would (the message for people; an event is acked, and
    held until the database is back when it ends an install: bot.slack.held_events)."""

    async def on_error(error: Exception, request: AsyncBoltRequest) -> BoltResponse | None:
        if not is_unreachable(error):
            log.error("a middleware failed: %s", error, exc_info=error)
            return None  # Bolt's 500
        database_away(runtime, error, "middleware")
        body = request.body if isinstance(request.body, dict) else {}
        if body.get("type") == "event_callback":
            hold_event(runtime, body)
            return BoltResponse(status=200, body="")
        errors = modal_errors(body, DATABASE_AWAY)
        if errors is not None:
            return BoltResponse(status=200, body={"response_action": "errors", "errors": errors})
        text = f":warning: {DATABASE_AWAY}"
        respond = request.context.respond
        if "command" not in body and respond is not None:  # a click: its HTTP body is not shown
            try:
                await respond(text=text, response_type="ephemeral", replace_original=False)
            except Exception:
                log.exception("could not tell the user the database is unreachable")
        return BoltResponse(status=200, body={"response_type": "ephemeral", "text": text})

    return on_error
