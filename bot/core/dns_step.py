"""When the `dns` step passes (pure: from audits, no I/O).

The step passes when every domain of the tenant has every required record of the profile
right except MX (MX moves later, behind its gate). Unknown (timeouts) never passes. The watch
asks the same rule of what it last knew (``gated``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from bot.core.evidence import DnsEvidence, DomainCheck
from bot.dnscheck.model import Audit, RecordResult, Verdict

EXCLUDED = frozenset({"mx"})


def gated(record_id: str) -> bool:
    """The record counts for the `dns` step (every record but MX)."""
    return record_id not in EXCLUDED


def required_records(records: Iterable[RecordResult]) -> tuple[str, ...]:
    """Ids of the records the `dns` step needs right, sorted."""
    return tuple(sorted(r.id for r in records if r.required and gated(r.id)))


def failing_records(audit: Audit) -> tuple[str, ...]:
    return tuple(
        r.id for r in audit.records if r.required and gated(r.id) and r.verdict is not Verdict.OK
    )


def passes(audit: Audit) -> bool:
    return audit.error is None and bool(audit.records) and not failing_records(audit)


def evidence(audits: Sequence[Audit], checked_at: datetime) -> DnsEvidence:
    """What the step keeps: per domain, pass or what fails."""
    return DnsEvidence(
        checked_at=checked_at,
        domains=tuple(
            DomainCheck(
                domain=a.domain,
                display=a.display_domain,
                passed=passes(a),
                failing=failing_records(a),
                summary=a.summary(),
                error=a.error_message if a.error is not None else "",
            )
            for a in audits
        ),
    )
