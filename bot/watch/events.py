"""What the watch announces: one ``Event`` per change, each with a dedupe key."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from bot.core.runbook import StepId


class EventKind(StrEnum):
    DATA_PROGRESS = "data-progress"
    DATA_READY = "data-ready"
    RECORDS_READY = "records-ready"
    READY_TO_MOVE_MX = "ready-to-move-mx"
    MX_MOVED = "mx-moved"
    MX_PARTIAL = "mx-partial"
    MX_MOVED_EARLY = "mx-moved-early"
    REGRESSION = "regression"
    LOCAL_AUTODISCOVER_OK = "local-autodiscover-ok"
    CLEANUP_DUE = "cleanup-due"
    CLEANUP_DONE = "cleanup-done"


@dataclass(frozen=True)
class MxChange:
    """The exact MX change for one domain (ready-to-move-mx)."""

    domain: str
    record: str  # e.g. "MX 0 contoso-com.mail.protection.outlook.com"
    current: tuple[str, ...]  # what the domain has now
    ttl: int | None


@dataclass(frozen=True)
class Event:
    kind: EventKind
    key: str  # unique per change: the outbox's dedupe key
    tenant_id: int
    domain: str = ""
    text: str = ""  # one line for people (also the notification fallback)
    edit_group: str | None = None  # messages in one group update a single Slack message
    servers_moved: tuple[str, ...] = ()
    servers_pending: tuple[str, ...] = ()
    caches_expire_at: datetime | None = None
    mention: tuple[str, ...] = ()  # Slack user ids to notify (approvers)
    mx_changes: tuple[MxChange, ...] = ()
    records: tuple[str, ...] = ()  # record ids concerned (regression)
    removals: tuple[str, ...] = ()  # exact changes, one per line (cleanup-due)
    details: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class StepReached:
    """A runbook step whose goal the watch saw reached (the step service decides the rest)."""

    step_id: StepId
    summary: str  # one line for people, kept as the step's evidence


@dataclass(frozen=True)
class StepChecked:
    """An automated check's latest result to keep on a step, whether it passed or not (the
    local autodiscover step shows what the internal server returns)."""

    step_id: StepId
    passed: bool
    summary: str
