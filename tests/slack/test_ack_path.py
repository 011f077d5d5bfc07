"""What keeps the most common ack cheap (bench/ack.py measures it): help is one text, Bolt
formats no debug lines, and startup's objects are out of the garbage collector's full walks."""

from __future__ import annotations

import dataclasses
import gc
import logging

from aiohttp import web

from bot.app.server import BOLT_APP, init
from bot.blocks.help import USAGE
from bot.ops.config import Settings
from tests.support.slack_requests import SlackClient


async def test_help_is_answered_as_one_mrkdwn_text(slack: SlackClient) -> None:
    response = await slack.command("/transition", "help")
    assert response.status == 200
    assert response.json is None  # a plain-text body: no blocks repeating it
    for command, what in USAGE:
        assert f"`{command}` — {what}" in response.text


async def test_an_unknown_word_is_named_in_the_same_text(slack: SlackClient) -> None:
    response = await slack.command("/transition", "frobnicate now")
    assert response.status == 200
    assert response.text.startswith("I don't know `frobnicate`. Here is what I can do:")


def test_bolt_builds_no_debug_line_unless_debug_is_asked(bot_settings: Settings) -> None:
    # Bolt reads its logger's own level (not the effective one) before formatting each
    # middleware's debug line: unset, it formats them on every request.
    try:
        debug = init(dataclasses.replace(bot_settings, log_level="DEBUG"))[BOLT_APP]
        assert debug.logger.level == logging.DEBUG
    finally:
        app = init(bot_settings)[BOLT_APP]
    assert app.logger.level == logging.INFO


async def test_startup_heap_is_frozen_while_serving_and_released_at_cleanup(
    bot_settings: Settings,
) -> None:
    runner = web.AppRunner(init(bot_settings), access_log=None)
    await runner.setup()
    try:
        frozen = gc.get_freeze_count()
        # at least what the app's own startup built (its modules are imported by then)
        assert frozen > 10_000
    finally:
        await runner.cleanup()
    assert gc.get_freeze_count() == 0
