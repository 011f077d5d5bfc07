"""0005: tenants started before the cleanup step get it (open), and a `source` column."""

from __future__ import annotations

from sqlalchemy import text

from storage.database import make_engine, upgrade

BEFORE = "0004_installs"


async def test_existing_tenants_get_an_open_cleanup_step(empty_database_url: str) -> None:
    await upgrade(empty_database_url, BEFORE)
    engine = make_engine(empty_database_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO workspaces (id, team_id, enterprise_id, created_at) "
                    "VALUES (1, 'T1', '', CURRENT_TIMESTAMP)"
                )
            )
            for tenant_id, channel in ((1, "C1"), (2, "C2")):
                await connection.execute(
                    text(
                        "INSERT INTO tenants (id, workspace_id, channel_id, name, primary_domain,"
                        " time_zone, onprem_exchange, approvals_needed, created_by, created_at)"
                        " VALUES (:id, 1, :channel, 'T', 'contoso.test', 'UTC', false, 1, 'U1',"
                        " CURRENT_TIMESTAMP)"
                    ),
                    {"id": tenant_id, "channel": channel},
                )
                await connection.execute(
                    text(
                        "INSERT INTO step_states (tenant_id, step_id, status) "
                        "VALUES (:id, 'mx', 'done')"
                    ),
                    {"id": tenant_id},
                )
        await upgrade(empty_database_url)
        async with engine.connect() as connection:
            rows = (
                await connection.execute(
                    text(
                        "SELECT tenant_id, step_id, status FROM step_states "
                        "ORDER BY tenant_id, step_id"
                    )
                )
            ).all()
            sources = (await connection.execute(text("SELECT source FROM tenants"))).all()
    finally:
        await engine.dispose()
    assert [tuple(r) for r in rows] == [
        (1, "cleanup", "open"),
        (1, "mx", "done"),
        (2, "cleanup", "open"),
        (2, "mx", "done"),
    ]
    assert [s for (s,) in sources] == [None, None]  # detected from DNS until someone picks one
