"""Passwords acknowledgements, the App Home tab, and a restart on the same database."""

from __future__ import annotations

import json

from bot.core.approvals import RequestStatus
from bot.core.runbook import Status, StepId
from bot.core.tenant_form import TenantForm, validate
from bot.services.approvals import get_request
from bot.services.common import Caller
from bot.services.tenants import start_tenant as start_tenant_service
from storage.database import Database
from tests.slack_tenants.conftest import (
    BOB,
    CAROL,
    COMMAND,
    DAVE,
    OTHER_TEAM,
    OWNER,
    dns_passes,
    start_tenant,
    status_of,
)
from tests.support.fake_slack import BOT_USER, DEFAULT_TEAM, FakeSlack
from tests.support.slack_fixtures import StartServer
from tests.support.slack_requests import DEFAULT_CHANNEL, SlackClient


async def test_each_user_acks_once_and_the_count_is_of_channel_members(
    slack: SlackClient, fake_slack: FakeSlack, database_url: str
) -> None:
    fake_slack.channel_members[DEFAULT_CHANNEL] = [BOT_USER, OWNER, BOB, CAROL, DAVE]
    await start_tenant(slack, fake_slack)
    post = await fake_slack.wait_for(
        "chat.postMessage", lambda c: "changed their password" in str(c.params.get("text"))
    )
    assert post.params["text"] == "0 of 4 channel members have changed their password."
    tenant_id = (await status_of(database_url)).tenant.id
    message = {"ts": "5.000001"}
    for user in (BOB, BOB, CAROL):
        response = await slack.block_action(
            "runbook.passwords_ack", str(tenant_id), message=message, user_id=user
        )
        assert response.status == 200
    status = await status_of(database_url)
    assert status.acked_users == {BOB, CAROL}
    await fake_slack.wait_for("chat.update", lambda c: c.params["text"].startswith("2 of 4"))


async def test_app_home_lists_the_workspaces_tenants_only(
    slack: SlackClient, fake_slack: FakeSlack, database_url: str
) -> None:
    await start_tenant(slack, fake_slack, name="Contoso")
    await start_tenant(slack, fake_slack, channel="C0SECOND", name="Adatum", domains="adatum.com")
    # another workspace's tenant, in the same database (a single-token bot refuses that
    # workspace's requests at the edge, so it is started through the service)
    database = Database(database_url)
    try:
        form = validate(TenantForm(name="Northwind", domains="northwind.com", approvers=(OWNER,)))
        caller = Caller(team_id=OTHER_TEAM, user_id=OWNER, channel_id="C0THIRD")
        await start_tenant_service(database.uow(), caller, form)
    finally:
        await database.dispose()
    await slack.command(COMMAND, "done software")
    response = await slack.event({"type": "app_home_opened", "user": OWNER, "tab": "home"})
    assert response.status == 200
    published = await fake_slack.wait_for("views.publish")
    text = json.dumps(published.params["view"])
    assert published.params["user_id"] == OWNER
    assert "*Adatum*" in text and "*Contoso*" in text and "Northwind" not in text
    assert "1 of 8 done" in text and "next: *Passwords*" in text


async def test_a_restart_loses_nothing(
    database_url: str, bot_server: StartServer, fake_slack: FakeSlack
) -> None:
    first = await bot_server()
    await start_tenant(first.slack, fake_slack)
    tenant_id = (await status_of(database_url)).tenant.id
    await first.slack.command(COMMAND, "done software")
    await first.slack.command(COMMAND, "done verify-data")
    await dns_passes(database_url)
    await first.slack.command(COMMAND, "request mx")
    post = await fake_slack.wait_for(
        "chat.postMessage", lambda c: str(c.params.get("text", "")).startswith("Approval for")
    )
    value = next(e["value"] for b in post.blocks if b["type"] == "actions" for e in b["elements"])
    await first.slack.block_action("approval.approve", value, user_id=BOB)
    await first.slack.block_action("runbook.passwords_ack", str(tenant_id), user_id=CAROL)
    await first.slack.command(COMMAND, "remind weekdays 09:00")
    await first.app.shutdown()
    await first.app.cleanup()

    second = await bot_server()  # a new server on the same database
    status = await second.slack.command(COMMAND, "reminders")
    assert "weekdays 09:00" in status.shown_text
    after = await status_of(database_url)
    assert after.tenant.name == "Contoso"
    assert after.step(StepId.SOFTWARE).status is Status.DONE
    assert after.acked_users == {CAROL}
    await second.slack.block_action("approval.approve", value, user_id=BOB)  # no-op now
    await second.slack.block_action("approval.approve", value, user_id=DAVE)
    tenant_id, request_id = (int(p) for p in value.split(":"))
    db = Database(database_url)
    try:  # BOB's vote survived the restart: with DAVE's, the request is granted
        request = await get_request(
            db.uow(), Caller(DEFAULT_TEAM, OWNER, DEFAULT_CHANNEL), tenant_id, request_id
        )
    finally:
        await db.dispose()
    assert request.status is RequestStatus.APPROVED
    assert [v.user_id for v in request.approvals] == [BOB, DAVE]
