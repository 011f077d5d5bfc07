"""sources: tenants.source (the platform mail comes from); the `cleanup` step for every tenant

Revision ID: 0005_sources
Revises: 0004_installs
Create Date: 2026-12-02 19:15:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_sources"
down_revision: str | None = "0004_installs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CLEANUP = "cleanup"


def upgrade() -> None:
    with op.batch_alter_table("tenants") as batch:
        # a source profile name ("google-workspace", "own-server", "other:mx.host.example"),
        # NULL: detect it from the current MX and SPF
        batch.add_column(sa.Column("source", sa.String(length=255), nullable=True))
    # Tenants started before the cleanup step existed get it open, like a new tenant's.
    op.execute(
        sa.text(
            "INSERT INTO step_states (tenant_id, step_id, status) "
            "SELECT t.id, :step, 'open' FROM tenants t WHERE NOT EXISTS ("
            "SELECT 1 FROM step_states s WHERE s.tenant_id = t.id AND s.step_id = :step)"
        ).bindparams(step=CLEANUP)
    )


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM step_states WHERE step_id = :step").bindparams(step=CLEANUP))
    with op.batch_alter_table("tenants") as batch:
        batch.drop_column("source")
