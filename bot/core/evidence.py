"""What an automated check keeps on a runbook step: typed here, stored as JSON on the step.

The runbook message reads it back: the `dns` step shows each domain's result, every other
automated step one summary line.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class DomainCheck:
    domain: str
    display: str
    passed: bool
    failing: tuple[str, ...]  # record ids to fix
    summary: dict[str, int]  # records per verdict
    error: str = ""  # why the domain could not be checked


@dataclass(frozen=True)
class DnsEvidence:
    """The `dns` step's check: every domain of the tenant."""

    checked_at: datetime
    domains: tuple[DomainCheck, ...]

    @property
    def passed(self) -> bool:
        return bool(self.domains) and all(d.passed for d in self.domains)

    def to_json(self) -> dict[str, Any]:
        return {
            "checked_at": self.checked_at.isoformat(),
            "passed": self.passed,
            "domains": [
                {
                    "domain": d.domain,
                    "display": d.display,
                    "passed": d.passed,
                    "failing": list(d.failing),
                    "summary": dict(d.summary),
                    "error": d.error,
                }
                for d in self.domains
            ],
        }


@dataclass(frozen=True)
class SummaryEvidence:
    """Any other automated check (the mailbox probe, MX moved): one line for people."""

    checked_at: datetime
    summary: str

    def to_json(self) -> dict[str, Any]:
        return {"checked_at": self.checked_at.isoformat(), "summary": self.summary}


Evidence = DnsEvidence | SummaryEvidence
