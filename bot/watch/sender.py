"""The outbox sender: deliver pending announcements to Slack, mark each delivered.

Rows are claimed with a short lease (``SKIP LOCKED`` on PostgreSQL), so with several replicas
each row is posted by one of them. The client retries 429 after ``Retry-After`` and 5xx itself
(bot.runtime.build_web_client); what still fails is retried later with exponential backoff
(or after Slack's ``Retry-After``), and given up after ``max_attempts``. A crash between the
write and the send loses nothing: the row stays pending and is sent after the restart.
Posts to one channel are spaced (Slack allows about one message a second per channel).

Exactly once across crashes: an attempt is counted in the row before the post; a row found
with a counted attempt and no reported outcome had its sender die mid-post, so the next owner
first looks for the row's key in the channel's recent messages (message metadata) and only
posts when it is not there.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import metrics
from bot.clock import Clock, utcnow
from storage.models_watch import OutboxMessage, OutboxStatus
from storage.uow import UnitOfWork
from storage.watch_repository import WatchRepository

log = logging.getLogger(__name__)

MAX_BACKOFF = 600.0
TokenLookup = Callable[[int], Awaitable[str | None]]
# Each post carries its dedupe key as message metadata, so a replica that takes over a row
# whose sender died mid-post can see in the channel's history whether it went out.
METADATA_EVENT = "transition_announcement"


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
        clock: Clock = utcnow,
        token_for: TokenLookup | None = None,
        client_for_token: Callable[[str], AsyncWebClient] | None = None,
    ) -> None:
        """``client`` posts for the one workspace of a single-token install. With OAuth
        installs, ``token_for(tenant_id)`` gives the tenant's workspace bot token and
        ``client_for_token`` a client for it."""
        self._sessionmaker = sessionmaker
        self._client = client
        self.options = options
        self._clock = clock
        self._lock = asyncio.Lock()
        self._token_for = token_for
        self._client_for_token = client_for_token
        self._clients: dict[str, AsyncWebClient] = {}

    async def _client_of(self, row: OutboxMessage) -> AsyncWebClient | None:
        if self._token_for is None or self._client_for_token is None:
            return self._client
        token = await self._token_for(row.tenant_id)
        if token is None:
            return None
        client = self._clients.get(token)
        if client is None:
            client = self._clients[token] = self._client_for_token(token)
        return client

    def _uow(self) -> UnitOfWork:
        return UnitOfWork(self._sessionmaker)

    async def run_once(self) -> int:
        """Deliver what is due; returns how many rows were delivered. One run at a time per
        process: when the job tick and a poll's nudge meet, the second returns at once."""
        if self._lock.locked():
            return 0
        async with self._lock:
            rows = await self._claim()
            if not rows:
                return 0
            by_channel: dict[str, list[OutboxMessage]] = {}
            for row in rows:
                by_channel.setdefault(row.channel_id, []).append(row)
            await self._release_beyond_cap(by_channel)
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

    def per_channel_cap(self) -> int:
        """Rows one run sends to one channel: spaced by ``channel_gap``, the last must begin
        well inside the lease it was claimed with (half of it: room for 429 waits)."""
        options = self.options
        if options.channel_gap <= 0:
            return options.batch
        return max(1, int(options.lease_seconds / options.channel_gap / 2))

    async def _release_beyond_cap(self, by_channel: dict[str, list[OutboxMessage]]) -> None:
        cap = self.per_channel_cap()
        extra = [row.id for batch in by_channel.values() for row in batch[cap:]]
        if not extra:
            return
        for channel_id, batch in by_channel.items():
            by_channel[channel_id] = batch[:cap]
        async with self._uow() as uow:  # the next run (here or elsewhere) takes them at once
            await WatchRepository(uow.session).release_outbox(extra, self.options.replica_id)
            await uow.commit()

    async def deliver_now(self, key: str, values: dict[str, Any] | None = None) -> int:
        """Deliver the one pending row ``key`` at once (after setting ``values`` on it), e.g.
        a reminder its job just wrote; 1 when posted. A failure leaves the row pending with
        its backoff, so a later run delivers it; a row another replica holds is left to it."""
        now = self._clock()
        async with self._uow() as uow:
            row = await WatchRepository(uow.session).claim_outbox_key(
                key,
                self.options.replica_id,
                now,
                now + timedelta(seconds=self.options.lease_seconds),
                values or {},
            )
            await uow.commit()
        return 0 if row is None else await self._deliver(row)

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
        ts = row.message_ts  # set from the start on a row that edits a known message
        if ts is None and row.edit_group:
            async with self._uow() as uow:
                repo = WatchRepository(uow.session)
                if await repo.earlier_pending_in_group(row.edit_group, row.id):
                    # The message this one edits is not posted yet: wait for it.
                    await repo.settle(row.id, self.options.replica_id, {})
                    await uow.commit()
                    return 0
                ts = await repo.group_ts(row.edit_group)
        if ts is None and self._outcome_unknown(row):
            found = await self._find_posted(row)
            if found is not None:
                await self._settle(row, Delivery(row.id, True, found))
                return 1
        if not await self._begin_attempt(row):
            return 0  # the lease was lost meanwhile: another replica has it
        delivery = await self._call(row, ts)
        await self._settle(row, delivery)
        return int(delivery.ok)

    @staticmethod
    def _outcome_unknown(row: OutboxMessage) -> bool:
        """An attempt began (counted) and never reported back: its process died mid-send,
        maybe after Slack had the message."""
        return row.attempts > 0 and row.last_error is None

    async def _begin_attempt(self, row: OutboxMessage) -> bool:
        """Count the attempt before the post, so a crash during it is seen by the next owner."""
        row.attempts += 1
        async with self._uow() as uow:
            # the lease is extended from now: this row may have waited behind others of its
            # channel (spacing, 429 waits) since the claim, and must not expire during the post
            lease_until = self._clock() + timedelta(seconds=self.options.lease_seconds)
            held = await WatchRepository(uow.session).mark_attempt(
                row.id, self.options.replica_id, row.attempts, lease_until
            )
            await uow.commit()
        return held

    async def _find_posted(self, row: OutboxMessage) -> str | None:
        """The ts of a message already carrying this row's key, if the channel has one."""
        oldest = f"{row.created_at.timestamp() - 60:.6f}"
        client = await self._client_of(row)
        if client is None:
            return None
        try:
            # POST like the bot's other calls (slack_sdk's wrapper would GET; Slack takes both)
            response = await client.api_call(
                "conversations.history",
                params={
                    "channel": row.channel_id,
                    "oldest": oldest,
                    "limit": 200,
                    "include_all_metadata": True,
                },
            )
        except (SlackApiError, aiohttp.ClientError, TimeoutError, OSError) as exc:
            log.warning(
                "watch: cannot check %s for %s (%s); posting", row.channel_id, row.dedupe_key, exc
            )
            return None
        for message in response.get("messages") or []:
            payload = (message.get("metadata") or {}).get("event_payload") or {}
            if payload.get("key") == row.dedupe_key:
                return str(message.get("ts") or "")
        return None

    async def _call(self, row: OutboxMessage, ts: str | None) -> Delivery:
        blocks: list[dict[str, Any]] = list(row.blocks.get("blocks", []))
        client = await self._client_of(row)
        if client is None:
            return Delivery(row.id, False, error="no bot token for this workspace (installed?)")
        try:
            if ts:
                await client.chat_update(
                    channel=row.channel_id, ts=ts, text=row.text, blocks=blocks
                )
                return Delivery(row.id, True, ts)
            response = await client.chat_postMessage(
                channel=row.channel_id,
                text=row.text,
                blocks=blocks,
                unfurl_links=False,
                metadata={"event_type": METADATA_EVENT, "event_payload": {"key": row.dedupe_key}},
            )
            return Delivery(row.id, True, str(response.get("ts") or ""))
        except SlackApiError as exc:
            retry_after = None
            if exc.response.status_code == 429:
                retry_after = _retry_after(exc.response.headers)
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
                "last_error": None,
            }
        else:
            attempts = row.attempts  # counted when the attempt began
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
        # per announcement: "sent", or "failed" once given up for good; an attempt that failed
        # and will be retried is "retried" (so failed + sent counts announcements)
        outcome = "sent" if delivery.ok else "retried"
        if values.get("status") == OutboxStatus.FAILED:
            outcome = "failed"
        metrics.ANNOUNCEMENTS.labels(outcome=outcome).inc()


def _retry_after(headers: Any) -> float:
    for name, value in dict(headers or {}).items():
        if str(name).lower() == "retry-after":
            try:
                return max(1.0, float(value if not isinstance(value, list) else value[0]))
            except (TypeError, ValueError):
                break
    return 1.0
