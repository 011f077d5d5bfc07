"""The outbox sender: deliver pending announcements to Slack, mark each delivered.

Rows are claimed with a short lease (``SKIP LOCKED`` on PostgreSQL), so with several replicas
each row is posted by one of them. The client retries 429 after ``Retry-After`` and 5xx itself
(bot.app.runtime.build_web_client); what still fails is retried later with exponential backoff
(or after Slack's ``Retry-After``). A refusal (``channel_not_found``, ``invalid_blocks``…) is
given up after ``max_attempts``; Slack being away (5xx with any body, JSON or not, timeouts,
refused connections) never gives a row up: the row waits with a backoff capped at
``SLACK_AWAY_MAX_BACKOFF``, and the whole sender pauses likewise (``SlackAway``: one log line
when Slack goes, one when it is back). A crash between the write and the send loses nothing:
the row stays pending and is sent after the restart. Posts to one channel are spaced (Slack
allows about one message a second per channel).

Exactly once across crashes: an attempt is counted in the row before the post; a row found
with a counted attempt and no reported outcome (its sender died mid-post, or the post timed
out or met a 5xx, after which Slack may have it) is looked up first in the channel's recent
messages (message metadata, the row's key) and only posted when it is not there.

A post slower than the lease: the sender extends the lease while the call runs (every third
of it), and abandons the call before the lease it last secured runs out. So no other replica
can take a row while its post is under way, and an abandoned post is looked up as above
before anyone posts it again.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.clock import Clock, utcnow
from bot.ops import metrics
from storage.models import OutboxMessage
from storage.outbox import Posted, Rewrite, Unposted
from storage.uow import UnitOfWork

log = logging.getLogger(__name__)

MAX_BACKOFF = 600.0  # between two tries of a row Slack refused
SLACK_AWAY_MAX_BACKOFF = 60.0  # the cap while Slack is away: a row goes out soon after it is back
# A row's last_error that begins so: its last attempt may have reached Slack (timeout, 5xx,
# abandoned); the next owner looks in the channel's history before posting it again.
UNKNOWN = "outcome unknown: "
# Errors Slack answers with HTTP 200 that mean "not now" rather than "no".
SLACK_AWAY_ERRORS = frozenset(
    {"internal_error", "fatal_error", "service_unavailable", "request_timeout", "ratelimited"}
)
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
    slack_away: bool = False  # not Slack's refusal: tried again however long it lasts
    unknown: bool = False  # Slack may have the post (timeout, 5xx, abandoned)


class SlackAway:
    """Whether Slack's Web API answers, as this sender last saw it: after a failure that is
    Slack's (5xx, timeout, refused connection) the sender pauses, doubling up to a cap, and
    logs one line when Slack goes and one when it is back."""

    def __init__(self, first_wait: float = 1.0, max_wait: float = SLACK_AWAY_MAX_BACKOFF) -> None:
        self.first_wait = first_wait
        self.max_wait = max_wait
        self.failures = 0
        self.until: datetime | None = None

    def paused(self, now: datetime) -> bool:
        return self.until is not None and now < self.until

    def failed(self, now: datetime, error: str) -> None:
        self.failures += 1
        wait = min(self.max_wait, self.first_wait * 2 ** (self.failures - 1))
        if self.failures == 1:
            log.warning("Slack Web API unreachable (%s); deliveries back off", error)
        self.until = now + timedelta(seconds=wait)

    def answered(self) -> None:
        if self.failures:
            log.warning("Slack Web API back after %d failed attempts", self.failures)
        self.failures = 0
        self.until = None


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
        self.slack = SlackAway()

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
        if self._lock.locked() or self.slack.paused(self._clock()):
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
                        if self.slack.paused(self._clock()):  # Slack went away meanwhile
                            await self._give_back(batch[index:])
                            break
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
            await uow.outbox.release(extra, self.options.replica_id)
            await uow.commit()

    async def _give_back(self, rows: list[OutboxMessage]) -> None:
        async with self._uow() as uow:
            await uow.outbox.release([row.id for row in rows], self.options.replica_id)
            await uow.commit()

    async def deliver_now(self, key: str, rewrite: Rewrite | None = None) -> int:
        """Deliver the one pending row ``key`` at once (its content rewritten first), e.g.
        a reminder its job just wrote; 1 when posted. A failure leaves the row pending with
        its backoff, so a later run delivers it; a row another replica holds is left to it."""
        now = self._clock()
        async with self._uow() as uow:
            row = await uow.outbox.claim_key(
                key,
                self.options.replica_id,
                now,
                now + timedelta(seconds=self.options.lease_seconds),
                rewrite,
            )
            await uow.commit()
        return 0 if row is None else await self._deliver(row)

    async def _claim(self) -> list[OutboxMessage]:
        now = self._clock()
        async with self._uow() as uow:
            rows = await uow.outbox.claim(
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
                if await uow.outbox.earlier_pending_in_group(row.edit_group, row.id):
                    # The message this one edits is not posted yet: wait for it.
                    await uow.outbox.settle(row.id, self.options.replica_id)
                    await uow.commit()
                    return 0
                ts = await uow.outbox.group_ts(row.edit_group)
        if ts is None and self._outcome_unknown(row):
            found = await self._find_posted(row)
            if isinstance(found, Delivery):  # Slack is away: no blind post
                await self._settle(row, found)
                return 0
            if found is not None:
                await self._settle(row, Delivery(row.id, True, found))
                return 1
        if not await self._begin_attempt(row):
            return 0  # the lease was lost meanwhile: another replica has it
        delivery = await self._call_under_lease(row, ts)
        await self._settle(row, delivery)
        return int(delivery.ok)

    @staticmethod
    def _outcome_unknown(row: OutboxMessage) -> bool:
        """An attempt began (counted) and never reported back (its process died mid-send), or
        ended in a way that leaves open whether Slack has the message."""
        error = row.last_error
        return row.attempts > 0 and (error is None or error.startswith(UNKNOWN))

    async def _call_under_lease(self, row: OutboxMessage, ts: str | None) -> Delivery:
        """``_call``, with the lease extended while it runs (every third of the lease) and the
        call abandoned before the lease last secured runs out: the choice made here for a
        post slower than its lease is to extend the lease, so no second sender ever starts
        on a row whose post is under way."""
        lease = self.options.lease_seconds
        margin = lease / 6  # the abandoned call's cancel, and the clocks of two replicas
        held_until = time.monotonic() + lease  # _begin_attempt took the lease from now
        call = asyncio.ensure_future(self._call(row, ts))
        try:
            while True:
                left = held_until - margin - time.monotonic()
                if left <= 0:
                    log.warning(
                        "watch: post of %s abandoned: its lease could not be extended",
                        row.dedupe_key,
                    )
                    return Delivery(row.id, False, error="abandoned", slack_away=True, unknown=True)
                done, _ = await asyncio.wait({call}, timeout=min(lease / 3, left))
                if done:
                    return call.result()
                if await self._extend_lease(row):
                    held_until = time.monotonic() + lease
        finally:
            if not call.done():
                call.cancel()
                await asyncio.wait({call})

    async def _extend_lease(self, row: OutboxMessage) -> bool:
        try:
            async with self._uow() as uow:
                until = self._clock() + timedelta(seconds=self.options.lease_seconds)
                held = await uow.outbox.extend_lease(row.id, self.options.replica_id, until)
                await uow.commit()
        except Exception as error:  # the database is away: the call goes on while it may
            log.warning("watch: cannot extend the lease of %s (%s)", row.dedupe_key, error)
            return False
        return held

    async def _begin_attempt(self, row: OutboxMessage) -> bool:
        """Count the attempt before the post, so a crash during it is seen by the next owner."""
        row.attempts += 1
        async with self._uow() as uow:
            # the lease is extended from now: this row may have waited behind others of its
            # channel (spacing, 429 waits) since the claim, and must not expire during the post
            lease_until = self._clock() + timedelta(seconds=self.options.lease_seconds)
            held = await uow.outbox.mark_attempt(
                row.id, self.options.replica_id, row.attempts, lease_until
            )
            await uow.commit()
        return held

    async def _find_posted(self, row: OutboxMessage) -> str | Delivery | None:
        """The ts of a message already carrying this row's key, if the channel has one; a
        failed ``Delivery`` when Slack is away (then nothing is posted blind)."""
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
            failed = _failure(row.id, exc)
            if failed.slack_away:
                return Delivery(row.id, False, error=UNKNOWN + str(failed.error), slack_away=True)
            log.warning(
                "watch: cannot check %s for %s (%s); posting",
                row.channel_id,
                row.dedupe_key,
                failed.error,
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
        except (SlackApiError, aiohttp.ClientError, TimeoutError, OSError) as exc:
            return _failure(row.id, exc)

    async def _settle(self, row: OutboxMessage, delivery: Delivery) -> None:
        now = self._clock()
        outcome: Posted | Unposted
        if delivery.ok:
            outcome = Posted(at=now, ts=delivery.ts)
        else:
            attempts = row.attempts  # counted when the attempt began
            cap = SLACK_AWAY_MAX_BACKOFF if delivery.slack_away else MAX_BACKOFF
            wait = delivery.retry_after or min(cap, 2.0 ** min(attempts, 20))
            gave_up = attempts >= self.options.max_attempts and not delivery.slack_away
            error = str(delivery.error)
            outcome = Unposted(
                attempts=attempts,
                error=UNKNOWN + error if delivery.unknown else error,
                retry_at=now + timedelta(seconds=wait),
                given_up=gave_up,
            )
            # While Slack is away one line says so (SlackAway); each row's is for debugging.
            log.log(
                logging.INFO if delivery.slack_away else logging.WARNING,
                "watch: announcement %s to %s failed (%s), attempt %d%s",
                row.dedupe_key,
                row.channel_id,
                delivery.error,
                attempts,
                ": giving up" if gave_up else f", retry in {wait:.0f}s",
            )
        if delivery.slack_away and delivery.retry_after is None:
            self.slack.failed(now, str(delivery.error))
        elif delivery.ok or not delivery.slack_away:
            self.slack.answered()
        async with self._uow() as uow:
            await uow.outbox.settle(row.id, self.options.replica_id, outcome)
            await uow.commit()
        # per announcement: "sent", or "failed" once given up for good; an attempt that failed
        # and will be retried is "retried" (so failed + sent counts announcements)
        label = "sent" if delivery.ok else "retried"
        if isinstance(outcome, Unposted) and outcome.given_up:
            label = "failed"
        metrics.ANNOUNCEMENTS.labels(outcome=label).inc()


def _failure(row_id: int, error: Exception) -> Delivery:
    """A failed call as a ``Delivery``, read defensively: a 5xx from Slack's edge or a proxy
    comes with an HTML or plain-text body (``response.data`` is then a string, not a dict)."""
    if not isinstance(error, SlackApiError):
        # A refused connection never reached Slack; a timeout or a dropped connection may have.
        reached = not isinstance(error, aiohttp.ClientConnectorError)
        return Delivery(row_id, False, error=type(error).__name__, slack_away=True, unknown=reached)
    response = error.response
    status = int(getattr(response, "status_code", 0) or 0)
    data = getattr(response, "data", None)
    code = data.get("error") if isinstance(data, dict) else None
    text = str(code) if isinstance(code, str) and code else f"HTTP {status}"
    if status == 429:
        headers = getattr(response, "headers", None)
        return Delivery(
            row_id, False, error=text, retry_after=_retry_after(headers), slack_away=True
        )
    if status >= 500 or status == 408:
        return Delivery(row_id, False, error=text, slack_away=True, unknown=True)
    return Delivery(row_id, False, error=text, slack_away=text in SLACK_AWAY_ERRORS)


def _retry_after(headers: Any) -> float:
    for name, value in dict(headers or {}).items():
        if str(name).lower() == "retry-after":
            try:
                return max(1.0, float(value if not isinstance(value, list) else value[0]))
            except (TypeError, ValueError):
                break
    return 1.0
