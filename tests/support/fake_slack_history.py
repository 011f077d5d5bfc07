"""The fake Slack Web API plus ``conversations.history`` built from the messages it accepted
(with their metadata), which the outbox sender reads to tell whether a post whose sender died
mid-call went out. A subclass, so the shared fake stays as it is.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from tests.support.fake_slack import FakeSlack


class FakeSlackWithHistory(FakeSlack):
    def _answer(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        if method == "conversations.history":
            return self._history(str(params.get("channel", "")), params)
        return super()._answer(method, params)

    def delivered(self, method: str = "chat.postMessage") -> list[Any]:
        """Calls the fake answered with ``ok: true``."""
        return [c for c in self.calls_to(method) if c.answer.get("ok")]

    def _history(self, channel: str, params: dict[str, Any]) -> dict[str, Any]:
        oldest = float(params.get("oldest") or 0)
        messages = []
        for call in self.delivered():
            if call.params.get("channel") != channel or float(call.answer["ts"]) < oldest:
                continue
            message: dict[str, Any] = {
                "type": "message",
                "ts": call.answer["ts"],
                "text": call.params.get("text", ""),
            }
            if call.params.get("metadata") and str(params.get("include_all_metadata")) in (
                "1",
                "true",
                "True",
            ):
                message["metadata"] = call.params["metadata"]
            messages.append(message)
        return {"ok": True, "messages": messages[::-1], "has_more": False}  # newest first


@pytest.fixture
async def fake_slack_history() -> AsyncIterator[FakeSlackWithHistory]:
    fake = FakeSlackWithHistory()
    await fake.start()
    try:
        yield fake
    finally:
        await fake.close()


class SlowSlack(FakeSlackWithHistory):
    """chat.postMessage answers (and shows in the history) only after ``post_delay`` seconds:
    a sender stopped or overtaken mid-call leaves a post whose fate it must look up."""

    post_delay = 0.0

    async def _handle_api(self, request: web.Request) -> web.Response:
        if self.post_delay and request.match_info.get("method") == "chat.postMessage":
            await asyncio.sleep(self.post_delay)
        return await super()._handle_api(request)


@pytest.fixture
async def slow_slack() -> AsyncIterator[SlowSlack]:
    fake = SlowSlack()
    await fake.start()
    try:
        yield fake
    finally:
        await fake.close()
