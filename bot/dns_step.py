"""When the `dns` step passes, and what evidence it keeps (pure: from audits, no I/O).

The step passes when every domain of the tenant has every required record of the profile
right except MX (MX moves later, behind its gate). Unknown (timeouts) never passes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bot.dnscheck.model import Audit, Verdict

EXCLUDED = frozenset({"mx"})


def failing_records(audit: Audit) -> tuple[str, ...]:
    return tuple(
        r.id
        for r in audit.records
        if r.required and r.id not in EXCLUDED and r.verdict is not Verdict.OK
    )


def passes(audit: Audit) -> bool:
    return audit.error is None and bool(audit.records) and not failing_records(audit)


def evidence(audits: Sequence[Audit], checked_at: datetime) -> dict[str, Any]:
    """JSON-ready summary kept on the step: per domain, pass or what fails, and the counts."""
    return {
        "checked_at": checked_at.isoformat(),
        "passed": bool(audits) and all(passes(a) for a in audits),
        "domains": [
            {
                "domain": a.domain,
                "display": a.display_domain,
                "passed": passes(a),
                "failing": list(failing_records(a)),
                "summary": a.summary(),
                "error": a.error_message if a.error is not None else "",
            }
            for a in audits
        ],
    }
