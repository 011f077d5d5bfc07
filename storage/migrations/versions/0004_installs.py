"""installs: workspaces.uninstalled_at; OAuth token columns TEXT (rotating tokens, sealed)

Revision ID: 0004_installs
Revises: 0003_seen_events
Create Date: 2026-11-25 18:45:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_installs"
down_revision: str | None = "0003_seen_events"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BOT_TOKENS = ("bot_token", "bot_refresh_token")
INSTALLATION_TOKENS = (*BOT_TOKENS, "user_token", "user_refresh_token")


def upgrade() -> None:
    with op.batch_alter_table("workspaces") as batch:
        batch.add_column(sa.Column("uninstalled_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("slack_bots") as batch:
        for name in BOT_TOKENS:
            batch.alter_column(name, type_=sa.Text(), existing_type=sa.String(200))
    with op.batch_alter_table("slack_installations") as batch:
        for name in INSTALLATION_TOKENS:
            batch.alter_column(name, type_=sa.Text(), existing_type=sa.String(200))


def downgrade() -> None:
    with op.batch_alter_table("slack_installations") as batch:
        for name in INSTALLATION_TOKENS:
            batch.alter_column(name, type_=sa.String(200), existing_type=sa.Text())
    with op.batch_alter_table("slack_bots") as batch:
        for name in BOT_TOKENS:
            batch.alter_column(name, type_=sa.String(200), existing_type=sa.Text())
    with op.batch_alter_table("workspaces") as batch:
        batch.drop_column("uninstalled_at")
