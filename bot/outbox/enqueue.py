"""The one way a post enters the outbox (the watch's announcements, reminders, runbook edits)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from storage.outbox import NewOutboxRow
from storage.uow import UnitOfWork


@dataclass(frozen=True)
class Post:
    key: str  # unique per change: a second enqueue of the same change adds nothing
    tenant_id: int
    channel_id: str
    kind: str
    text: str
    blocks: Sequence[dict[str, Any]]
    edit_group: str | None = None  # posts of one group update a single Slack message
    edit_ts: str | None = None  # update this message (the runbook) instead of posting


async def enqueue(
    uow: UnitOfWork,
    post: Post,
    now: datetime,
    *,
    send_at: datetime | None = None,
    held: tuple[str, datetime] | None = None,
) -> bool:
    """Add the post in the caller's transaction, due at ``send_at`` (default ``now``); True
    when added, False when its key is already there. ``held=(replica, until)`` leases it to
    that replica (no other sender takes it before ``until``; a shutdown gives it back at
    once, bot.jobs.shutdown)."""
    return bool(await enqueue_many(uow, [post], now, send_at=send_at, held=held))


async def enqueue_many(
    uow: UnitOfWork,
    posts: Sequence[Post],
    now: datetime,
    *,
    send_at: datetime | None = None,
    held: tuple[str, datetime] | None = None,
) -> list[int]:
    """``enqueue`` for many posts in a few statements (the watch's sweep); the tenant id of
    each post added."""
    rows = [
        NewOutboxRow(
            dedupe_key=post.key,
            tenant_id=post.tenant_id,
            channel_id=post.channel_id,
            kind=post.kind,
            text=post.text,
            blocks={"blocks": list(post.blocks)},
            edit_group=post.edit_group,
            message_ts=post.edit_ts,
            next_attempt_at=send_at or now,
            created_at=now,
            leased_by=held[0] if held else None,
            lease_until=held[1] if held else None,
        )
        for post in posts
    ]
    return await uow.outbox.add_rows(rows)
