"""Every action_id the bot's interactive elements carry. Listeners register on these values,
and tests/test_manifest.py checks each one has a listener."""

from __future__ import annotations

from enum import StrEnum


class ActionId(StrEnum):
    RECHECK = "check.recheck"
