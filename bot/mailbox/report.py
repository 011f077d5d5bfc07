"""Pure evaluation of a mailbox probe: item counts per mailbox -> is the data there yet.

No I/O. ``probe.py`` gathers the counts from Microsoft Graph; the watch and the blocks read the
report.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

MAX_NAMED = 5  # how many still-empty mailboxes the one-line text names


@dataclass(frozen=True)
class MailboxCount:
    address: str
    items: int | None  # inbox totalItemCount; None = could not be read (no mailbox, denied)
    note: str = ""  # why it could not be read


@dataclass(frozen=True)
class MailboxReport:
    counts: tuple[MailboxCount, ...]
    required_share: float = 1.0  # share of the listed mailboxes that must have mail

    @property
    def total(self) -> int:
        return len(self.counts)

    @property
    def with_mail(self) -> int:
        return sum(1 for c in self.counts if c.items)

    @property
    def empty(self) -> tuple[str, ...]:
        """Mailboxes without mail, including those that could not be read."""
        return tuple(c.address for c in self.counts if not c.items)

    @property
    def needed(self) -> int:
        """How many mailboxes must have mail for the data to count as arrived."""
        return min(self.total, math.ceil(self.total * self.required_share - 1e-9))

    @property
    def ready(self) -> bool:
        return self.total > 0 and self.with_mail >= max(1, self.needed)

    def text(self) -> str:
        if not self.total:
            return "No mailboxes found to check."
        head = f"{self.with_mail} of {self.total} mailboxes have mail"
        empty = self.empty
        if not empty:
            return head + "."
        named = ", ".join(empty[:MAX_NAMED])
        more = f" and {len(empty) - MAX_NAMED} more" if len(empty) > MAX_NAMED else ""
        return f"{head}; still empty: {named}{more}"


def evaluate(counts: Iterable[MailboxCount], required_share: float = 1.0) -> MailboxReport:
    if not 0 < required_share <= 1:
        raise ValueError("required_share must be in (0, 1]")
    ordered = tuple(sorted(counts, key=lambda c: c.address.lower()))
    return MailboxReport(counts=ordered, required_share=required_share)
