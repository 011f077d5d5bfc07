"""The background watch's tables: last observation, poll schedule with leases, outbox, and the
per-tenant Graph credentials (client secret encrypted with TRANSITION_SECRET_KEY).

Same ``Base`` as storage.models, so one metadata and one Alembic history (revision 0002).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, utcnow


class OutboxStatus:
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"  # gave up after too many attempts (kept for the operator)


class WatchObservation(Base):
    """What the watch last knew about a tenant (bot.watch.observation.Observation as JSON).

    ``version`` is checked on write: two replicas that polled the same tenant cannot both store.
    """

    __tablename__ = "watch_observations"

    tenant_id: Mapped[int] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    version: Mapped[int] = mapped_column(Integer, default=0)
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    observed_at: Mapped[datetime] = mapped_column(default=utcnow)


class WatchPoll(Base):
    """When a tenant is next due, and which replica holds it (lease) while it polls."""

    __tablename__ = "watch_polls"
    __table_args__ = (Index("ix_watch_polls_next_poll_at", "next_poll_at"),)

    tenant_id: Mapped[int] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    next_poll_at: Mapped[datetime] = mapped_column(default=utcnow)
    fast: Mapped[bool] = mapped_column(Boolean, default=False)
    leased_by: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column()
    last_polled_at: Mapped[datetime | None] = mapped_column()
    last_error: Mapped[str | None] = mapped_column(Text)


class OutboxMessage(Base):
    """An announcement to deliver; the unique dedupe key makes each change post once.

    Rows of one ``edit_group`` update one Slack message: the first is posted, later ones edit
    the ``ts`` the first got.
    """

    __tablename__ = "watch_outbox"
    __table_args__ = (Index("ix_watch_outbox_status_next", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(255), unique=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    channel_id: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    blocks: Mapped[dict[str, Any]] = mapped_column(default=dict)  # {"blocks": [...]}
    edit_group: Mapped[str | None] = mapped_column(String(255), index=True)
    status: Mapped[str] = mapped_column(String(16), default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    leased_by: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column()
    message_ts: Mapped[str | None] = mapped_column(String(32))  # ts of the Slack message
    last_error: Mapped[str | None] = mapped_column(Text)


class GraphCredential(Base):
    """App-only Microsoft Graph credentials of one tenant; the secret is stored encrypted."""

    __tablename__ = "graph_credentials"

    tenant_id: Mapped[int] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    azure_tenant_id: Mapped[str] = mapped_column(String(64))
    client_id: Mapped[str] = mapped_column(String(64))
    secret_encrypted: Mapped[str] = mapped_column(Text)
    addresses: Mapped[dict[str, Any]] = mapped_column(default=dict)  # {"addresses": [...]}
    required_share: Mapped[float] = mapped_column(Float, default=1.0)
    set_by: Mapped[str] = mapped_column(String(32))
    set_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def mailboxes(self) -> tuple[str, ...]:
        """The addresses whose mail is probed (none: every mailbox of the tenant)."""
        return tuple(self.addresses.get("addresses", ()))
