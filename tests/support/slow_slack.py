"""A fake Slack that is slow to post (``slow_slack`` fixture): chat.postMessage answers (and
shows in ``conversations.history``) only after ``post_delay`` seconds, so a sender stopped or
overtaken mid-call leaves a post whose fate it must look up."""

from __future__ import annotations

import asyncio
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
