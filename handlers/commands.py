"""``/transition`` and its words.

All the words share one Bolt listener, registered before any other, which looks the first word
up once and runs that word's listener. (One Bolt listener per word made Bolt build each
listener's arguments and re-parse the text for every listener ahead of the match: most of a
command's CPU.) To add a word from another handlers module::

    def register(app: AsyncApp, runtime: Runtime) -> None:
        word(app, "start")(listener(runtime, on_start))

``bot.app.assembly.build_app`` calls ``register_fallback`` after every module: ``help``, an empty
text
and any word nobody registered get the usage message.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.kwargs_injection.async_args import AsyncArgs

from bot.app.runtime import Runtime
from bot.blocks.check import (
    check_report,
    checking_text,
    error_text,
    not_in_channel_note,
    report_text,
)
from bot.blocks.help import usage_text
from bot.core.commands import CheckCommand, HelpCommand, parse_command, split_command
from bot.services.tenant_truth import audit_here
from handlers.guard import BoltListener, listener
from handlers.replies import caller_from, post_message

COMMAND = "/transition"


class Words:
    """The words of ``/transition`` of one app, the listener each runs, and the one for any
    other word."""

    def __init__(self) -> None:
        self.listeners: dict[str, BoltListener] = {}
        self.fallback: BoltListener | None = None

    def add(self, names: Iterable[str], func: BoltListener) -> None:
        for name in names:
            if name in self.listeners:
                raise ValueError(f"/transition {name!r} is registered twice")
            self.listeners[name] = func

    def listener_for(self, body: dict[str, Any]) -> BoltListener | None:
        word = split_command(str(body.get("text", "")))[0]
        return self.listeners.get(word, self.fallback)


_words: weakref.WeakKeyDictionary[Any, Words] = weakref.WeakKeyDictionary()


def words_of(app: Any) -> Words:
    """The app's words; the first call registers the one Bolt listener that runs them."""
    words = _words.get(app)
    if words is None:
        words = _words[app] = Words()

        async def transition_word(args: AsyncArgs) -> None:
            func = words.listener_for(args.body)
            if func is None:
                raise LookupError("no /transition fallback: register_fallback was not called")
            await func(args)

        app.command(COMMAND)(transition_word)
    return words


def word(app: Any, *names: str) -> Callable[[BoltListener], BoltListener]:
    """Register a listener for ``/transition <name>`` (any of ``names``)."""

    def add(func: BoltListener) -> BoltListener:
        words_of(app).add(names, func)
        return func

    return add


def register(app: AsyncApp, runtime: Runtime) -> None:
    word(app, "check")(listener(runtime, on_check))


def register_fallback(app: AsyncApp, runtime: Runtime) -> None:
    """``help``, an empty text and any word no module registered: the usage message."""
    words_of(app).fallback = listener(runtime, on_usage)


async def on_usage(args: AsyncArgs, runtime: Runtime) -> None:
    command = parse_command(str(args.body.get("text", "")))
    unknown = command.unknown if isinstance(command, HelpCommand) else None
    await args.ack(text=usage_text(unknown))


async def on_check(args: AsyncArgs, runtime: Runtime) -> None:
    command = parse_command(str(args.body.get("text", "")))
    if not isinstance(command, CheckCommand):
        message = getattr(command, "message", None) or usage_text()
        await args.ack(text=f":warning: {message}")
        return
    await args.ack(text=checking_text(command.domain.unicode))

    # After the ack: Slack has its answer, the audit may take as long as DNS takes.
    audit = await audit_here(
        runtime.db.uow if runtime.database is not None else None,
        caller_from(args.body),
        command.domain.ascii,
        runtime.dns_config,
        runtime.domain_reader,
        runtime.secret_box,
    )
    if audit.error is not None:
        await args.respond(text=error_text(audit), response_type="ephemeral")
        return
    await post_message(
        args,
        str(args.body.get("channel_id", "")),
        report_text(audit),
        check_report(audit),
        fallback_blocks=check_report(audit, note=not_in_channel_note()),
    )
