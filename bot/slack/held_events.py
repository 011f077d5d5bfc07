"""Events that arrived while the database was away, held until it is back.

Slack delivers an event again only after a non-2xx answer, three times within about five
minutes, and a replica must never answer 5xx. So during an outage every event is acked 200, and
the ones that must not be lost, those that end an install (``ends_install``), are held here in
arrival order, then recorded exactly as on a normal delivery (bot.slack.workspaces.replay_held).
The rest (``app_home_opened``) is stale by then: the Home tab is drawn again when next opened.

Held in memory, per replica: a replica that dies during the outage loses what it held, which is
no worse than Slack giving up its retries after five minutes, and an outage of any length is
covered while it lives. ``LIMIT`` bounds it; an uninstall storm beyond that keeps the newest.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

LIMIT = 1_000


@dataclass(frozen=True)
class HeldEvent:
    body: dict[str, Any]  # the ``event_callback`` envelope as Slack sent it
    received_at: datetime


@dataclass
class HeldEvents:
    held: deque[HeldEvent] = field(default_factory=lambda: deque(maxlen=LIMIT))

    def hold(self, body: dict[str, Any], at: datetime) -> None:
        self.held.append(HeldEvent(body=body, received_at=at))

    def first(self) -> HeldEvent | None:
        return self.held[0] if self.held else None

    def done(self, event: HeldEvent) -> None:
        """``event`` is recorded: forget it (it is the first, unless the deque rolled over)."""
        if self.held and self.held[0] is event:
            self.held.popleft()

    def __len__(self) -> int:
        return len(self.held)
