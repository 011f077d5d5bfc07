"""The watch's jobs: a poll tick (claim due tenants, poll them) and an outbox tick (deliver
announcements), added to the process's one scheduler (by bot.jobs.background).

APScheduler only ticks; what is due lives in our tables, so any number of replicas can run the
same jobs. A poll that wrote announcements wakes the sender at once instead of waiting for
its tick.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from apscheduler.triggers.interval import IntervalTrigger

from bot.app.runtime import Runtime
from bot.jobs.backoff import while_reachable
from bot.jobs.observe import counted_polls, with_outbox_depth
from bot.jobs.scheduler import Scheduler, replica_id
from bot.mailbox.graph import DomainReader, GraphConfig, MailboxProbe
from bot.ops.config import ConfigError, Settings
from bot.ops.logs import register_secret
from bot.ops.secrets import SecretBox
from bot.watch.poller import Poller, WatchOptions
from bot.watch.sender import OutboxSender, SenderOptions

log = logging.getLogger(__name__)

SEND_TICK_SECONDS = 1.0
POLL_TICKS_AT_ONCE = 4
MIN_LEASE_SECONDS = 20.0


def poll_tick_seconds(settings: Settings) -> float:
    """How often to look for due tenants: a few times per fast interval, at most every 5 s."""
    return max(0.2, min(5.0, settings.fast_poll_seconds / 4))


def lease_seconds(settings: Settings) -> float:
    """How long a claimed poll is ours; a dead replica's tenants come back after this."""
    return max(MIN_LEASE_SECONDS, 2 * settings.fast_poll_seconds)


def secret_box(settings: Settings) -> SecretBox | None:
    if not settings.secret_key:
        return None
    register_secret(settings.secret_key)
    try:
        return SecretBox(settings.secret_key)
    except ConfigError as exc:
        log.error("watch: %s The mailbox probe is off until it is fixed.", exc)
        return None


def oauth_tokens(runtime: Runtime) -> dict[str, Any]:
    """With OAuth installs, each tenant's announcements go out with its workspace's token."""
    installs = runtime.installations
    if installs is None:
        return {}

    async def token_for(tenant_id: int) -> str | None:
        async with runtime.db.uow() as uow:
            workspace = await uow.workspaces.of_tenant(tenant_id)
        if workspace is None:
            return None
        return await installs.bot_token(workspace.team_id or None, workspace.enterprise_id or None)

    return {"token_for": token_for, "client_for_token": runtime.web_client}


class SenderWaker:
    """Deliver right after a poll wrote announcements (the sender's tick is the fallback).
    One delivery at a time, held here until it is done (a shutdown waits for it)."""

    def __init__(self, deliver: Callable[[], Coroutine[Any, Any, object]]) -> None:
        self._deliver = deliver
        self._task: asyncio.Task[object] | None = None

    def wake(self) -> None:
        if not self.running():
            self._task = asyncio.get_running_loop().create_task(self._deliver())

    def running(self) -> set[asyncio.Task[object]]:
        return {self._task} if self._task is not None and not self._task.done() else set()


def limited(
    tick: Callable[[], Awaitable[object]], limit: int
) -> Callable[[], Coroutine[Any, Any, None]]:
    """The tick, unless ``limit`` of it are already running (then it returns at once), so
    APScheduler's own max_instances is never reached and never logs a skipped run. A plain
    ``async def``: APScheduler runs only coroutine functions on the event loop."""
    running = 0

    async def run() -> None:
        nonlocal running
        if running >= limit:
            return
        running += 1
        try:
            await tick()
        finally:
            running -= 1

    run.__name__ = run.__qualname__ = getattr(tick, "__qualname__", "tick")
    return run


@dataclass(frozen=True)
class Watch:
    poller: Poller
    sender: OutboxSender
    waker: SenderWaker  # the deliveries a poll started


def build_watch(runtime: Runtime, replica: str | None = None) -> Watch:
    settings = runtime.settings
    replica = replica or replica_id()
    graph = GraphConfig(
        graph_url=settings.graph_url, login_url=settings.login_url, ca_bundle=settings.ca_bundle
    )
    sender = OutboxSender(
        runtime.db.sessionmaker,
        runtime.web_client(),
        SenderOptions(replica_id=replica),
        **oauth_tokens(runtime),
    )
    waker = SenderWaker(while_reachable(sender.run_once, runtime.db))
    poller = Poller(
        runtime.db.sessionmaker,
        runtime.dns_config,
        WatchOptions(
            replica_id=replica,
            poll_seconds=settings.poll_seconds,
            fast_poll_seconds=settings.fast_poll_seconds,
            lease_seconds=lease_seconds(settings),
        ),
        probe=MailboxProbe(graph),
        domain_reader=DomainReader(graph),
        secrets=secret_box(settings),
        on_outbox=waker.wake,
    )
    return Watch(poller, sender, waker)


def register(scheduler: Scheduler, runtime: Runtime) -> Watch | None:
    """The watch's two jobs on ``scheduler``; the watch they run (None: no database)."""
    if runtime.database is None:
        return None
    # The watch ticks every second or so: APScheduler's per-run INFO lines would drown the log.
    logging.getLogger("apscheduler.executors.default").setLevel(logging.WARNING)
    watch = build_watch(runtime, scheduler.replica)
    now = datetime.now(UTC)
    scheduler.add_job(
        limited(
            while_reachable(counted_polls(watch.poller.run_once), runtime.db), POLL_TICKS_AT_ONCE
        ),
        IntervalTrigger(seconds=poll_tick_seconds(runtime.settings), timezone=UTC),
        id="watch.poll",
        next_run_time=now,
        # Ticks may overlap (a slow batch must not hold back tenants due at the fast
        # interval): leases keep two ticks from polling one tenant.
        max_instances=POLL_TICKS_AT_ONCE + 2,
        replace_existing=True,
    )
    scheduler.add_job(
        limited(
            while_reachable(
                with_outbox_depth(watch.sender.run_once, runtime.db.sessionmaker), runtime.db
            ),
            1,
        ),
        IntervalTrigger(seconds=SEND_TICK_SECONDS, timezone=UTC),
        id="watch.send",
        max_instances=3,  # a tick returns at once while another is delivering
        next_run_time=now,  # what a previous process left in the outbox goes out first
        replace_existing=True,
    )
    return watch
