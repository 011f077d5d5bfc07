"""The workspace's tables: workspaces, tenants and their domains, approvers, steps,
approvals, reminders, acknowledgements, remembered messages, the audit trail; and slack-sdk's
OAuth tables.

Every tenant row hangs off a workspace row, and every query in the repositories starts from the
workspace, so one workspace can never reach another's tenant.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.installations import (
    build_bots_table,
    build_installations_table,
    build_states_table,
)
from storage.models.base import Base, utcnow

# slack-sdk's OAuth installation and state tables, in our metadata so the migrations own them.
# The stores (storage.installations) use the same names; token columns are TEXT since 0004.
slack_bots = build_bots_table(Base.metadata)
slack_installations = build_installations_table(Base.metadata)
slack_oauth_states = build_states_table(Base.metadata)


class StepStatus:
    """Stored values of ``StepState.status`` (bot.core.runbook has the enum the code uses)."""

    OPEN = "open"
    DONE = "done"
    SKIPPED = "skipped"
    NOT_NEEDED = "not_needed"


class Workspace(Base):
    """A Slack workspace (team) or an Enterprise Grid org; "" where Slack gives no id."""

    __tablename__ = "workspaces"
    __table_args__ = (UniqueConstraint("team_id", "enterprise_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32), default="")
    enterprise_id: Mapped[str] = mapped_column(String(32), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Set by app_uninstalled / tokens_revoked: polls and posts stop; data stays (0004).
    uninstalled_at: Mapped[datetime | None] = mapped_column(default=None)


class Tenant(Base):
    """One customer organisation being moved, bound to one channel of one workspace."""

    __tablename__ = "tenants"
    __table_args__ = (UniqueConstraint("workspace_id", "channel_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    channel_id: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    primary_domain: Mapped[str] = mapped_column(String(253))  # ASCII (IDNA) form
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC")
    onprem_exchange: Mapped[bool] = mapped_column(Boolean, default=False)
    internal_dns_server: Mapped[str | None] = mapped_column(String(64))  # IP or IP:PORT
    # the platform mail comes from (bot.dnscheck.sources); None: detected from MX and SPF (0005)
    source: Mapped[str | None] = mapped_column(String(255), default=None)
    approvals_needed: Mapped[int] = mapped_column(Integer, default=1)
    partner_id: Mapped[str | None] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    domains: Mapped[list[TenantDomain]] = relationship(
        back_populates="tenant",
        order_by="TenantDomain.position",
        cascade="all, delete-orphan",
        lazy="selectin",
    )
    approvers: Mapped[list[TenantApprover]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="TenantApprover.user_id"
    )


class TenantDomain(Base):
    """A domain of a tenant; position 0 is the primary domain."""

    __tablename__ = "tenant_domains"
    __table_args__ = (UniqueConstraint("tenant_id", "domain"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    domain: Mapped[str] = mapped_column(String(253))  # ASCII (IDNA)
    display: Mapped[str] = mapped_column(String(253))  # Unicode, for people
    position: Mapped[int] = mapped_column(Integer, default=0)

    tenant: Mapped[Tenant] = relationship(back_populates="domains")


class TenantApprover(Base):
    __tablename__ = "tenant_approvers"

    tenant_id: Mapped[int] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)


class StepState(Base):
    """Where one runbook step of one tenant stands (status: open/done/skipped/not_needed)."""

    __tablename__ = "step_states"
    __table_args__ = (UniqueConstraint("tenant_id", "step_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    step_id: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default=StepStatus.OPEN)
    actor_id: Mapped[str | None] = mapped_column(String(32))  # who changed it last ("bot" too)
    changed_at: Mapped[datetime | None] = mapped_column()
    owner_id: Mapped[str | None] = mapped_column(String(32))  # who is on it (reminders name them)
    evidence: Mapped[dict[str, Any] | None] = mapped_column()  # automated steps: last check
    note: Mapped[str | None] = mapped_column(Text)  # skip reason, partner id, ...


class ApprovalRequest(Base):
    """A request to pass a gated step (mx, lync); status: open/approved/rejected/cancelled."""

    __tablename__ = "approval_requests"
    __table_args__ = (Index("ix_approval_requests_tenant_step", "tenant_id", "step_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    step_id: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="open")
    requested_by: Mapped[str] = mapped_column(String(32))
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    approvals_needed: Mapped[int] = mapped_column(Integer)  # the tenant's K when asked
    channel_id: Mapped[str | None] = mapped_column(String(32))  # where its message is
    message_ts: Mapped[str | None] = mapped_column(String(32))  # for chat.update
    closed_at: Mapped[datetime | None] = mapped_column()
    closed_by: Mapped[str | None] = mapped_column(String(32))

    votes: Mapped[list[ApprovalVote]] = relationship(
        back_populates="request",
        cascade="all, delete-orphan",
        lazy="selectin",
        order_by="ApprovalVote.id",
    )


class ApprovalVote(Base):
    """One person's answer to a request; the unique key makes a second click a no-op."""

    __tablename__ = "approval_votes"
    __table_args__ = (UniqueConstraint("request_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("approval_requests.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(32))
    decision: Mapped[str] = mapped_column(String(16))  # approve / reject
    voted_at: Mapped[datetime] = mapped_column(default=utcnow)

    request: Mapped[ApprovalRequest] = relationship(back_populates="votes")


class Reminder(Base):
    """A recurring post of the open steps, in the tenant's time zone.

    ``schedule`` is what the user typed; the cron fields are its parsed form (APScheduler
    CronTrigger arguments). ``next_run`` is the next due time in UTC; a job claims a due
    reminder (``lease_*`` on PostgreSQL with several replicas), posts, and moves it forward.
    """

    __tablename__ = "reminders"
    __table_args__ = (
        UniqueConstraint("tenant_id", "schedule"),
        Index("ix_reminders_next_run", "next_run"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    schedule: Mapped[str] = mapped_column(String(200))
    minute: Mapped[str] = mapped_column(String(64))
    hour: Mapped[str] = mapped_column(String(64))
    day: Mapped[str] = mapped_column(String(64))
    month: Mapped[str] = mapped_column(String(64))
    day_of_week: Mapped[str] = mapped_column(String(64))
    time_zone: Mapped[str] = mapped_column(String(64))
    next_run: Mapped[datetime | None] = mapped_column()
    last_run: Mapped[datetime | None] = mapped_column()
    created_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column()


class Acknowledgement(Base):
    """One user's "done" on a per-user step (the passwords step); recorded once."""

    __tablename__ = "acknowledgements"
    __table_args__ = (UniqueConstraint("tenant_id", "step_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    step_id: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str] = mapped_column(String(32))
    acked_at: Mapped[datetime] = mapped_column(default=utcnow)


class SlackMessage(Base):
    """A long-lived bot message of a tenant (status, passwords), kept to edit it in place."""

    __tablename__ = "slack_messages"
    __table_args__ = (UniqueConstraint("tenant_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    channel_id: Mapped[str] = mapped_column(String(32))
    ts: Mapped[str] = mapped_column(String(32))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class AuditEvent(Base):
    """Who did what, when: the history of a tenant (and of workspace-level actions)."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_tenant_at", "tenant_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    actor_id: Mapped[str] = mapped_column(String(32))  # Slack user id, or "bot"
    action: Mapped[str] = mapped_column(String(64))  # e.g. "step.done", "approval.vote"
    at: Mapped[datetime] = mapped_column(default=utcnow)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
