"""Our listeners -> Bolt listeners: the runtime bound in, and a catch-all so that no exception
ever reaches Slack as a timeout or a traceback.

A service's ``Refusal`` propagates to here and becomes the ephemeral "why and what to do"
message, so a listener only catches it where the answer differs (inline modal errors).

Every listener in handlers/ has the shape ``async def on_x(args: AsyncArgs, runtime: Runtime)``
and is registered as ``app.command(...)(listener(runtime, on_x))``. Bolt injects ``args``
(ack, respond, client, body, action, view, event, logger, context…).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from slack_bolt.kwargs_injection.async_args import AsyncArgs

from bot.runtime import Runtime
from bot.services.common import Refusal
from handlers.replies import refuse

log = logging.getLogger(__name__)

SORRY = "Something went wrong on my side and the request was not completed; try again."

Listener = Callable[[AsyncArgs, Runtime], Awaitable[None]]
BoltListener = Callable[[AsyncArgs], Awaitable[None]]


def listener(runtime: Runtime, func: Listener) -> BoltListener:
    async def run(args: AsyncArgs) -> None:
        try:
            await func(args, runtime)
        except Refusal as refusal:  # understood, not allowed, nothing changed: say why
            await refuse(args, refusal)
        except Exception:
            log.exception("listener %s failed", func.__name__)
            await apologize(args)

    run.__name__ = run.__qualname__ = func.__name__  # Bolt logs listeners by name
    return run


async def apologize(args: AsyncArgs) -> None:
    """Tell the user, ephemerally, through whichever channel is still open."""
    try:
        if args.ack is not None and args.ack.response is None:
            await args.ack(text=f":warning: {SORRY}")
        elif args.respond is not None:
            await args.respond(
                text=f":warning: {SORRY}", response_type="ephemeral", replace_original=False
            )
    except Exception:
        log.exception("could not tell the user about the failure")
