"""The Socket Mode side of the fake Slack (``fake_slack.socket``).

``apps.connections.open`` (called with the app-level token) hands out a ``ws://`` URL on the
fake's own server; the bot's Socket Mode client connects there. A test then pushes an envelope
the way Slack does and reads the acknowledgement the app sends back::

    ack = await fake_slack.socket.send("slash_commands", command_payload)
    assert ack["payload"]["text"].startswith("Checking")
"""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

from aiohttp import WSMsgType, web

APP_TOKEN = "xapp-1-A0TRANSITION-fake-app-token"


class FakeSocketMode:
    def __init__(self) -> None:
        self.app_token = APP_TOKEN
        self.base_url = ""
        self.connections: list[web.WebSocketResponse] = []
        self._connected = asyncio.Event()
        self._acks: dict[str, asyncio.Future[dict[str, Any]]] = {}

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get("/socket", self._handle_socket)

    def open_connection(self, token: str | None) -> dict[str, Any]:
        """The answer to ``apps.connections.open``."""
        if token != self.app_token:
            return {"ok": False, "error": "invalid_auth"}
        ws_url = self.base_url.replace("http://", "ws://") + "/socket"
        return {"ok": True, "url": ws_url}

    async def _handle_socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self.connections.append(ws)
        await ws.send_json({"type": "hello", "num_connections": len(self.connections)})
        self._connected.set()
        async for message in ws:
            if message.type is not WSMsgType.TEXT:
                continue
            answer = json.loads(message.data)
            future = self._acks.get(str(answer.get("envelope_id")))
            if future is not None and not future.done():
                future.set_result(answer)
        self.connections.remove(ws)
        return ws

    async def send(self, kind: str, payload: dict[str, Any], wait: float = 10) -> dict[str, Any]:
        """Push one envelope to the connected app and wait for its acknowledgement."""
        await asyncio.wait_for(self._connected.wait(), wait)
        envelope_id = uuid.uuid4().hex
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._acks[envelope_id] = future
        envelope = {
            "envelope_id": envelope_id,
            "type": kind,
            "payload": payload,
            "accepts_response_payload": kind != "events_api",
        }
        await self.connections[-1].send_json(envelope)
        try:
            return await asyncio.wait_for(future, wait)
        finally:
            del self._acks[envelope_id]
