"""watch: observations, polls with leases, outbox, graph credentials

Revision ID: 0002_watch
Revises: 0001
Create Date: 2026-11-25 18:08:37.016752
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_watch"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "graph_credentials",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("azure_tenant_id", sa.String(length=64), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("secret_encrypted", sa.Text(), nullable=False),
        sa.Column("addresses", sa.JSON(), nullable=False),
        sa.Column("required_share", sa.Float(), nullable=False),
        sa.Column("set_by", sa.String(length=32), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_graph_credentials_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_graph_credentials")),
    )
    op.create_table(
        "watch_observations",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("observed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_watch_observations_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_watch_observations")),
    )
    op.create_table(
        "watch_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dedupe_key", sa.String(length=255), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("blocks", sa.JSON(), nullable=False),
        sa.Column("edit_group", sa.String(length=255), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("leased_by", sa.String(length=64), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("message_ts", sa.String(length=32), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_watch_outbox_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_watch_outbox")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_watch_outbox_dedupe_key")),
    )
    with op.batch_alter_table("watch_outbox", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_watch_outbox_edit_group"), ["edit_group"], unique=False
        )
        batch_op.create_index(
            "ix_watch_outbox_status_next", ["status", "next_attempt_at"], unique=False
        )

    op.create_table(
        "watch_polls",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("next_poll_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("fast", sa.Boolean(), nullable=False),
        sa.Column("leased_by", sa.String(length=64), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_polled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_watch_polls_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_watch_polls")),
    )
    with op.batch_alter_table("watch_polls", schema=None) as batch_op:
        batch_op.create_index("ix_watch_polls_next_poll_at", ["next_poll_at"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("watch_polls", schema=None) as batch_op:
        batch_op.drop_index("ix_watch_polls_next_poll_at")

    op.drop_table("watch_polls")
    with op.batch_alter_table("watch_outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_watch_outbox_status_next")
        batch_op.drop_index(batch_op.f("ix_watch_outbox_edit_group"))

    op.drop_table("watch_outbox")
    op.drop_table("watch_observations")
    op.drop_table("graph_credentials")
