"""Events API deliveries already taken: Slack retries an event it thinks was not acked
(``X-Slack-Retry-Num``) with the same ``event_id``; the unique key makes every replica on the
database agree that the retry is a duplicate. Rows older than an hour are deleted as new ones
arrive (Slack retries within minutes)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, utcnow


class SeenEvent(Base):
    __tablename__ = "slack_seen_events"
    __table_args__ = (Index("ix_slack_seen_events_received_at", "received_at"),)

    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32), default="")
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
