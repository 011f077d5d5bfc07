"""The App Home tab: what the bot does and how to start."""

from __future__ import annotations

from slack_sdk.models.blocks import HeaderBlock
from slack_sdk.models.views import View

from bot.blocks.common import section
from bot.blocks.help import usage_text


def home_view() -> View:
    return View(
        type="home",
        blocks=[
            HeaderBlock(text="Transition Bot"),
            section(
                "I run a mail cutover to Microsoft 365 as a checkable runbook in a channel. "
                "Start by checking a domain's DNS:"
            ),
            section(usage_text()),
        ],
    )
