"""``/transition`` and its words.

Each word is its own Bolt listener on the one command, selected by ``word_is(...)``; Bolt runs
the first registered listener whose matchers accept the request. To add a word from another
handlers module::

    def register(app: AsyncApp, runtime: Runtime) -> None:
        app.command(COMMAND, matchers=[word_is("start")])(listener(runtime, on_start))

``bot.app.build_app`` registers ``register_fallback`` (the usage message for ``help`` and any
unknown word) after every module, so it only gets what no word listener took.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.kwargs_injection.async_args import AsyncArgs

from bot.blocks.check import (
    check_report,
    checking_text,
    error_text,
    not_in_channel_note,
    report_text,
)
from bot.blocks.help import usage_blocks, usage_text
from bot.commands import CheckCommand, HelpCommand, parse_command, split_command
from bot.runtime import Runtime
from bot.services.tenant_truth import audit_here
from handlers.guard import listener
from handlers.replies import caller_from, post_message

COMMAND = "/transition"


def word_is(*words: str) -> Callable[[dict[str, Any]], Awaitable[bool]]:
    """A Bolt matcher: the command's first word is one of ``words``."""

    async def matches(body: dict[str, Any]) -> bool:
        return split_command(str(body.get("text", "")))[0] in words

    return matches


def register(app: AsyncApp, runtime: Runtime) -> None:
    app.command(COMMAND, matchers=[word_is("check")])(listener(runtime, on_check))


def register_fallback(app: AsyncApp, runtime: Runtime) -> None:
    app.command(COMMAND)(listener(runtime, on_usage))


async def on_usage(args: AsyncArgs, runtime: Runtime) -> None:
    command = parse_command(str(args.body.get("text", "")))
    unknown = command.unknown if isinstance(command, HelpCommand) else None
    await args.ack(text=usage_text(unknown), blocks=usage_blocks(unknown))


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
