"""Remembering Events API event ids (storage.models.events.SeenEvent)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from storage.dialect import insert, rowcount
from storage.models import SeenEvent

KEEP = timedelta(hours=1)  # Slack retries within minutes (immediately, 1 min, 5 min)


class EventRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def first_delivery(self, event_id: str, team_id: str, now: datetime) -> bool:
        """Record ``event_id``; True when this is its first delivery (on any replica).

        Rows older than ``KEEP`` are deleted in the same transaction, so the table stays small
        without a job of its own.
        """
        await self.session.execute(delete(SeenEvent).where(SeenEvent.received_at < now - KEEP))
        result = await self.session.execute(
            insert(self.session)(SeenEvent)
            .values(event_id=event_id, team_id=team_id, received_at=now)
            .on_conflict_do_nothing(index_elements=["event_id"])
        )
        return bool(rowcount(result))
