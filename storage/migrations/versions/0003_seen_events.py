"""seen events: Events API event ids already taken, for deduplicating Slack's retries

Revision ID: 0003_seen_events
Revises: 0002_watch
Create Date: 2026-11-25 18:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_seen_events"
down_revision: str | None = "0002_watch"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "slack_seen_events",
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_slack_seen_events")),
    )
    op.create_index(
        "ix_slack_seen_events_received_at", "slack_seen_events", ["received_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_slack_seen_events_received_at", table_name="slack_seen_events")
    op.drop_table("slack_seen_events")
