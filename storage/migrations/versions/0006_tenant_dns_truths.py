"""tenant_dns_truths: the tenant's own DNS records per domain from Microsoft Graph (cache)

Revision ID: 0006_tenant_dns_truths
Revises: 0005_sources
Create Date: 2026-12-02 19:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_tenant_dns_truths"
down_revision: str | None = "0005_sources"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "tenant_dns_truths",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("domain", sa.String(length=253), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_tenant_dns_truths_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "domain", name=op.f("pk_tenant_dns_truths")),
    )


def downgrade() -> None:
    op.drop_table("tenant_dns_truths")
