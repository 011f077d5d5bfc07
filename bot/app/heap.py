"""What startup built stays out of the garbage collector's full collections while the app runs.

A full collection walks every object the collector tracks. The modules, models, engine and app
that startup leaves behind are most of them (about 130,000) and live until the process ends, so
under load a full collection every few thousand requests cost more CPU than the rest of a
request (bench/ack.py). ``gc.freeze`` moves them to a permanent generation that no collection
walks; what they free by reference counting is still freed. There is no ``gc.collect`` first: it
takes ~90 ms of each start (hundreds of starts in the tests) to free about 3,500 objects of
startup garbage once. Unfrozen at cleanup, so that a process that starts and stops several apps
(the tests) collects them again.
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator

from aiohttp import web


async def frozen_startup_heap(app: web.Application) -> AsyncIterator[None]:
    gc.freeze()
    yield
    gc.unfreeze()
