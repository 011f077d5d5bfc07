"""Waiting in tests for something another process or task does: poll a condition against a
deadline (a guard against hangs, never a speed check), and count rows."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.database import READ_ONLY


async def eventually(
    condition: Callable[[], object],
    what: str,
    *,
    within: float = 60.0,
    interval: float = 0.1,
    context: Callable[[], str] = lambda: "",
) -> None:
    """Poll ``condition`` (plain or async) until it is true; on timeout fail naming ``what``
    with ``context()`` (e.g. the tail of a process's log) to show why.

    The deadline only stops a hang: it is long, because a loaded machine (two cores, every
    test worker busy) can be many times slower than an idle one, and a test must not fail
    for that."""
    deadline = time.monotonic() + within
    while True:
        result = condition()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}\n{context()}".rstrip())
        await asyncio.sleep(interval)


async def count_rows(sessionmaker: async_sessionmaker[AsyncSession], query: object) -> int:
    """The integer a ``select(func.count())…`` query returns, read without taking SQLite's write
    lock: a test polling this must not starve the server it watches of that lock."""
    async with sessionmaker() as session:
        await session.connection(execution_options={READ_ONLY: True})
        return int(await session.scalar(query) or 0)  # type: ignore[call-overload]
