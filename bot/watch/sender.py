"""The outbox sender: deliver pending announcements to Slack, mark each delivered.

Rows are claimed with a short lease (``SKIP LOCKED`` on PostgreSQL), so with several replicas
each row is posted by one of them. The client retries 429 after ``Retry-After`` and 5xx itself
(bot.runtime.build_web_client); what still fails is retried later with exponential backoff
(or after Slack's ``Retry-After``), and given up after ``max_attempts``. A crash between the
write and the send loses nothing: the row stays pending and is sent after the restart.
Posts to one channel are spaced (Slack allows about one message a second per channel).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models_watch import OutboxMessage, OutboxStatus
from storage.uow import UnitOfWork
from storage.watch_repository import WatchRepository

log = logging.getLogger(__name__)

MAX_BACKOFF = 600.0


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class SenderOptions:
    replica_id: str
    lease_seconds: float = 30.0
    batch: int = 50
    max_attempts: int = 8
    channel_gap: float = 1.0  # seconds between two posts to one channel
    channels_at_once: int = 8


@dataclass(frozen=True)
class Delivery:
    row_id: int
    ok: bool
    ts: str | None = None
    error: str | None = None
    retry_after: float | None = None


class OutboxSender:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        client: AsyncWebClient,
        options: SenderOptions,
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._client = client
        self.options = options
        self._clock = clock
        self._lock = asyncio.Lock()

    def _uow(self) -> UnitOfWork:
        return UnitOfWork(self._sessionmaker)

    async def run_once(self) -> int:
        """Deliver what is due; returns how many rows were delivered. One run at a time per
        process (the job tick and a poll's nudge may meet here)."""
        async with self._lock:
            rows = await self._claim()
            if not rows:
                return 0
            by_channel: dict[str, list[OutboxMessage]] = {}
            for row in rows:
                by_channel.setdefault(row.channel_id, []).append(row)
            limit = asyncio.Semaphore(self.options.channels_at_once)

            async def channel(batch: list[OutboxMessage]) -> int:
                async with limit:
                    sent = 0
                    for index, row in enumerate(batch):
                        if index:
                            await asyncio.sleep(self.options.channel_gap)
                        sent += await self._deliver(row)
                    return sent

            return sum(await asyncio.gather(*(channel(b) for b in by_channel.values())))

    async def _claim(self) -> list[OutboxMessage]:
        now = self._clock()
        async with self._uow() as uow:
            rows = await WatchRepository(uow.session).claim_outbox(
                self.options.replica_id,
                now,
                now + timedelta(seconds=self.options.lease_seconds),
                self.options.batch,
            )
            await uow.commit()
        return rows

    async def _deliver(self, row: OutboxMessage) -> int:
        ts: str | None = None
        if row.edit_group:
            async with self._uow() as uow:
                repo = WatchRepository(uow.session)
                if await repo.earlier_pending_in_group(row.edit_group, row.id):
                    # The message this one edits is not posted yet: wait for it.
                    await repo.settle(row.id, self.options.replica_id, {})
                    await uow.commit()
                    return 0
                ts = await repo.group_ts(row.edit_group)
        delivery = await self._call(row, ts)
        await self._settle(row, delivery)
        return int(delivery.ok)

    async def _call(self, row: OutboxMessage, ts: str | None) -> Delivery:
        blocks: list[dict[str, Any]] = list(row.blocks.get("blocks", []))
        try:
            if ts:
                await self._client.chat_update(
                    channel=row.channel_id, ts=ts, text=row.text, blocks=blocks
                )
                return Delivery(row.id, True, ts)
            response = await self._client.chat_postMessage(
                channel=row.channel_id, text=row.text, blocks=blocks, unfurl_links=False
            )
            return Delivery(row.id, True, str(response.get("ts") or ""))
        except SlackApiError as exc:
            retry_after = None
            if exc.response.status_code == 429:
                retry_after = float(exc.response.headers.get("Retry-After", "1") or 1)
            error = str(exc.response.get("error") or f"HTTP {exc.response.status_code}")
            return Delivery(row.id, False, error=error, retry_after=retry_after)
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            return Delivery(row.id, False, error=type(exc).__name__)

    async def _settle(self, row: OutboxMessage, delivery: Delivery) -> None:
        now = self._clock()
        values: dict[str, Any]
        if delivery.ok:
            values = {
                "status": OutboxStatus.SENT,
                "sent_at": now,
                "message_ts": delivery.ts,
                "attempts": row.attempts + 1,
                "last_error": None,
            }
        else:
            attempts = row.attempts + 1
            wait = delivery.retry_after or min(MAX_BACKOFF, 2.0**attempts)
            gave_up = attempts >= self.options.max_attempts
            values = {
                "attempts": attempts,
                "last_error": delivery.error,
                "next_attempt_at": now + timedelta(seconds=wait),
                "status": OutboxStatus.FAILED if gave_up else OutboxStatus.PENDING,
            }
            log.warning(
                "watch: announcement %s to %s failed (%s), attempt %d%s",
                row.dedupe_key,
                row.channel_id,
                delivery.error,
                attempts,
                ": giving up" if gave_up else f", retry in {wait:.0f}s",
            )
        async with self._uow() as uow:
            await WatchRepository(uow.session).settle(row.id, self.options.replica_id, values)
            await uow.commit()
