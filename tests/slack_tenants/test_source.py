"""The start modal's source platform: offered with detection as the default, and kept on the
tenant when a person picks one."""

from __future__ import annotations

import json

from storage.database import Database
from tests.slack_tenants.conftest import COMMAND, start_tenant, status_of
from tests.support.fake_slack import FakeSlack
from tests.support.slack_requests import SlackClient


async def stored_source(database_url: str) -> str | None:
    tenant_id = (await status_of(database_url)).tenant.id
    db = Database(database_url)
    try:
        async with db.uow() as uow:
            tenant = await uow.tenants.get_any(tenant_id)
            assert tenant is not None
            return tenant.source
    finally:
        await db.dispose()


async def test_the_modal_offers_the_sources_with_detection_first(
    slack: SlackClient, fake_slack: FakeSlack
) -> None:
    await slack.command(COMMAND, "start contoso.com")
    opened = await fake_slack.wait_for("views.open")
    block = next(b for b in opened.params["view"]["blocks"] if b.get("block_id") == "source")
    element = block["element"]
    assert element["type"] == "static_select"
    assert element["initial_option"]["value"] == "detect"
    values = [o["value"] for o in element["options"]]
    assert values == ["detect", "bpos", "google-workspace", "zoho", "own-server"]
    assert "Google Workspace" in json.dumps(element)


async def test_a_picked_source_is_kept_on_the_tenant(
    slack: SlackClient, fake_slack: FakeSlack, database_url: str
) -> None:
    await start_tenant(slack, fake_slack, source="google-workspace")
    assert await stored_source(database_url) == "google-workspace"


async def test_without_a_pick_the_source_is_detected(
    slack: SlackClient, fake_slack: FakeSlack, database_url: str
) -> None:
    await start_tenant(slack, fake_slack)
    assert await stored_source(database_url) is None
