"""When the old platform's records may go, and what to remove (pure: no I/O, no clock).

The cleanup comes once MX points to Microsoft 365 on every authoritative server of every
domain, and for each domain the old MX's TTL has run out since the move was seen, plus
``GRACE``. Five days because RFC 5321 section 4.5.4.1 has senders retry a queued message for
"at least 4-5 days": mail the old platform still holds in its queue, and replies to it, keep
needing its SPF include and DKIM key that long; resolvers forget the old MX after its TTL.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

from bot.dnscheck.model import Audit
from bot.watch.observation import DomainState, MxState

GRACE = timedelta(days=5)
# the old MX's TTL when the watch never saw it (a tenant started after the move): a day, the
# longest TTL most DNS hosts allow, so the cleanup never comes early for want of it
UNKNOWN_OLD_TTL = 86400


def due_at(states: Iterable[DomainState]) -> datetime | None:
    """When the cleanup may be announced; None while some domain's MX has not moved."""
    times = []
    for state in states:
        if state.mx_state is not MxState.MOVED or state.moved_at is None:
            return None
        ttl = state.old_mx_ttl if state.old_mx_ttl is not None else UNKNOWN_OLD_TTL
        times.append(state.moved_at + timedelta(seconds=ttl) + GRACE)
    return max(times) if times else None


def removals(audits: Mapping[str, Audit]) -> tuple[str, ...] | None:
    """Every leftover's exact fix, "domain: change" per line; None when some domain's leftovers
    are not known (an error, a server that did not answer): nothing is said on a guess."""
    lines: list[str] = []
    for domain in sorted(audits):
        audit = audits[domain]
        if audit.error is not None or not audit.leftovers_known:
            return None
        lines += [f"{domain}: {fix}" for r in audit.leftovers for fix in r.fixes]
    return tuple(lines)


def source_title(audits: Mapping[str, Audit]) -> str:
    titles = sorted({a.source_title for a in audits.values() if a.source_title})
    return " and ".join(titles) or "the old platform"
