"""The work listeners do after their ack, held by reference so that a shutdown can wait for it.

With ``process_before_response=False`` Bolt answers Slack as soon as a listener acks and runs
the listener in a task of its own; the listener runner's start handler is the first thing
that task runs, so it is where the task can be held (Bolt keeps no reference to it). That
first step is queued when the request is dispatched, so it has run by the time the request's
handler has finished and a shutdown looks.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_bolt.listener.async_listener_start_handler import AsyncListenerStartHandler
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse


class ListenerTasks(AsyncListenerStartHandler):
    """Bolt's listener start handler (by default it does nothing): holds the listener's task
    until that task is done."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()

    async def handle(self, request: AsyncBoltRequest, response: BoltResponse | None) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def running(self) -> set[asyncio.Task[Any]]:
        return {task for task in self._tasks if not task.done()}


def track_listeners(app: AsyncApp) -> ListenerTasks:
    tasks = ListenerTasks()
    app.listener_runner.listener_start_handler = tasks
    return tasks


LISTENER_TASKS = web.AppKey("listener_tasks", ListenerTasks)
