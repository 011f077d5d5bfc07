"""The fuzz harness itself can fail: a valid state-changing command is caught as a change."""

from __future__ import annotations

import pytest

from tests.fuzz.harness import FuzzBot


async def test_a_real_change_is_reported(fuzz_bot: FuzzBot) -> None:
    slack = fuzz_bot.server.slack
    with pytest.raises(AssertionError, match="step_states"):
        await fuzz_bot.send(
            lambda: slack.command("/transition", "done software"), what="done software"
        )
    assert fuzz_bot.tally.requests == 1
    assert len(fuzz_bot.tally.state_changes) == 1
    fuzz_bot.tally.state_changes.clear()  # expected here: keep it out of the suite's counts


async def test_an_allowed_change_is_not_reported(fuzz_bot: FuzzBot) -> None:
    slack = fuzz_bot.server.slack
    response = await fuzz_bot.send(
        lambda: slack.command("/transition", "reopen software"),
        may_change=frozenset({"step_states", "audit_events", "slack_messages"}),
        what="reopen software",
    )
    assert response.status == 200
    assert fuzz_bot.tally.state_changes == []
