"""What the watch last knew about a tenant: the state it compares a new poll against.

Only *known* facts are kept: a verdict ``unknown`` (timeout, SERVFAIL) never overwrites what was
known before, so a flaky server cannot make an announcement flap. Stored as JSON.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class MxState(StrEnum):
    OLD = "old"  # no authoritative server serves the Microsoft 365 MX
    PARTIAL = "partial"  # some do
    MOVED = "moved"  # every one does


@dataclass(frozen=True)
class DomainState:
    verdicts: dict[str, str] = field(default_factory=dict)  # record id -> last known verdict
    mx_servers: dict[str, bool] = field(default_factory=dict)  # server -> serves M365 MX
    old_mx_ttl: int | None = None  # TTL of the MX while it still pointed elsewhere
    mx_ttl: int | None = None  # TTL of the MX record now
    required: tuple[str, ...] = ()  # required record ids other than MX (from the last audit)
    mx_blockers: tuple[str, ...] = ()  # why MX must wait (MTA-STS enforce), last known
    moved_at: datetime | None = None  # when MX was first seen moved on every server

    @property
    def mx_state(self) -> MxState:
        if not self.mx_servers or not any(self.mx_servers.values()):
            return MxState.OLD
        return MxState.MOVED if all(self.mx_servers.values()) else MxState.PARTIAL

    def to_json(self) -> dict[str, Any]:
        return {
            "verdicts": dict(self.verdicts),
            "mx_servers": dict(self.mx_servers),
            "old_mx_ttl": self.old_mx_ttl,
            "mx_ttl": self.mx_ttl,
            "required": list(self.required),
            "mx_blockers": list(self.mx_blockers),
            "moved_at": self.moved_at.isoformat() if self.moved_at else None,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DomainState:
        return cls(
            verdicts={str(k): str(v) for k, v in data.get("verdicts", {}).items()},
            mx_servers={str(k): bool(v) for k, v in data.get("mx_servers", {}).items()},
            old_mx_ttl=data.get("old_mx_ttl"),
            mx_ttl=data.get("mx_ttl"),
            required=tuple(str(r) for r in data.get("required", ())),
            mx_blockers=tuple(str(b) for b in data.get("mx_blockers", ())),
            moved_at=datetime.fromisoformat(data["moved_at"]) if data.get("moved_at") else None,
        )


@dataclass(frozen=True)
class Observation:
    """The whole tenant. ``version`` grows by one per stored poll; keys are built from it."""

    version: int = 0
    domains: dict[str, DomainState] = field(default_factory=dict)
    records_ready: bool = False
    data_ready: bool = False
    data_with_mail: int = 0
    data_total: int = 0
    progress_group: str | None = None  # edit-in-place group of the current progress message
    ready_to_move: bool = False
    # the internal DNS server's local autodiscover: last known state ("ok", "wrong",
    # "missing"; None before it first answered) and the summary last kept on the step
    local_autodiscover: str | None = None
    local_summary: str = ""
    cleanup_announced: bool = False  # the channel was told what can be removed
    cleanup_done: bool = False  # ... and that it is gone

    def to_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "domains": {d: s.to_json() for d, s in self.domains.items()},
            "records_ready": self.records_ready,
            "data_ready": self.data_ready,
            "data_with_mail": self.data_with_mail,
            "data_total": self.data_total,
            "progress_group": self.progress_group,
            "ready_to_move": self.ready_to_move,
            "local_autodiscover": self.local_autodiscover,
            "local_summary": self.local_summary,
            "cleanup_announced": self.cleanup_announced,
            "cleanup_done": self.cleanup_done,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Observation:
        return cls(
            version=int(data.get("version", 0)),
            domains={str(d): DomainState.from_json(s) for d, s in data.get("domains", {}).items()},
            records_ready=bool(data.get("records_ready", False)),
            data_ready=bool(data.get("data_ready", False)),
            data_with_mail=int(data.get("data_with_mail", 0)),
            data_total=int(data.get("data_total", 0)),
            progress_group=data.get("progress_group"),
            ready_to_move=bool(data.get("ready_to_move", False)),
            local_autodiscover=data.get("local_autodiscover"),
            local_summary=str(data.get("local_summary", "")),
            cleanup_announced=bool(data.get("cleanup_announced", False)),
            cleanup_done=bool(data.get("cleanup_done", False)),
        )
