"""Fake Slacks that take their time:

- slow to post (``slow_slack`` fixture): chat.postMessage answers (and shows in
  ``conversations.history``) only after ``post_delay`` seconds, so a sender stopped or
  overtaken mid-call leaves a post whose fate it must look up;
- ``holding(method)``: a method answers only when the test lets it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from tests.support.fake_slack import FakeSlack


class SlowSlack(FakeSlack):
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


class HeldMethod(FakeSlack):
    """Calls of one Web API method are taken in and answered (and recorded) only once the test
    sets ``may_answer``: a call that lasts as long as the test wants."""

    def __init__(self, method: str) -> None:
        super().__init__()
        self.method = method
        self.asked = asyncio.Event()
        self.may_answer = asyncio.Event()

    async def _handle_api(self, request: web.Request) -> web.Response:
        if request.match_info.get("method") == self.method:
            self.asked.set()
            await self.may_answer.wait()
        return await super()._handle_api(request)


@contextlib.asynccontextmanager
async def holding(method: str) -> AsyncIterator[HeldMethod]:
    """A started fake that holds ``method``; at the end it lets go and closes."""
    fake = HeldMethod(method)
    await fake.start()
    try:
        yield fake
    finally:
        fake.may_answer.set()
        await fake.close()
