"""The fake Slack Web API plus ``conversations.history`` built from the messages it accepted
(with their metadata), which the outbox sender reads to tell whether a post whose sender died
mid-call went out. A subclass, so the shared fake stays as it is.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from tests.support.fake_slack import FakeSlack


class FakeSlackWithHistory(FakeSlack):
    async def start(self) -> None:
        # slack_sdk sends read methods such as conversations.history as GET with a query.
        app = web.Application()
        app.router.add_post("/api/{method}", self._handle_api)
        app.router.add_get("/api/{method}", self._handle_api)
        app.router.add_post("/response/{key}", self._handle_response_url)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.base_url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"

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
