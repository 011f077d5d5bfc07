"""Announcements put straight into the outbox, as the poller writes them."""

from __future__ import annotations

from datetime import datetime

from storage.outbox import NewOutboxRow


def outbox_row(
    key: str,
    tenant_id: int,
    channel_id: str,
    text: str,
    now: datetime,
    *,
    kind: str = "records-ready",
    due: datetime | None = None,
    leased_by: str | None = None,
    lease_until: datetime | None = None,
) -> NewOutboxRow:
    """A pending row without blocks, due at ``due`` (default ``now``)."""
    return NewOutboxRow(
        dedupe_key=key,
        tenant_id=tenant_id,
        channel_id=channel_id,
        kind=kind,
        text=text,
        blocks={"blocks": []},
        edit_group=None,
        message_ts=None,
        next_attempt_at=due or now,
        created_at=now,
        leased_by=leased_by,
        lease_until=lease_until,
    )
