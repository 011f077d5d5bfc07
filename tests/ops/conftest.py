"""Fixtures of the operations tests."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from tests.support.postgres_cluster import PostgresCluster, start_cluster


@pytest.fixture
async def cluster() -> AsyncIterator[PostgresCluster]:
    """A PostgreSQL cluster of this test's own, to stop, pause or restart at will."""
    started = await asyncio.to_thread(start_cluster)
    try:
        yield started
    finally:
        await asyncio.to_thread(started.destroy)
