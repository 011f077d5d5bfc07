"""One log line per Slack request with its request id, and the same id on the lines its
follow-up work (after the ack) writes: contextvars flow into the task Bolt starts."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.ops.logging_setup import serve_logging
from tests.support.fake_slack import FakeSlack
from tests.support.slack_requests import SlackClient


def entries(err: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in err.splitlines() if line.startswith("{")]


async def test_follow_up_lines_carry_the_requests_id(
    slack: SlackClient,
    fake_slack: FakeSlack,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with serve_logging("json"):  # on the captured stderr, as serve does on the real one
        await slack.command("/transition", "check premx.test")
        await fake_slack.wait_for("chat.postMessage")  # posted after the ack, by the follow-up
        await slack.command("/transition", "help")

        logged = entries(capsys.readouterr().err)
        requests = [e for e in logged if e["logger"] == "transition_bot.http"]
        assert [e["message"].split(" -> ")[0] for e in requests] == [
            "slack command /transition check",
            "slack command /transition help",
        ]
        check_id, help_id = (e["request_id"] for e in requests)
        assert check_id != help_id and "-" not in (check_id, help_id)

        posted = [
            e
            for e in logged
            if e["logger"] == "transition_bot.slack_api" and "chat.postMessage" in e["message"]
        ]
        assert posted, "no line for the report's chat.postMessage"
        assert {e["request_id"] for e in posted} == {check_id}
