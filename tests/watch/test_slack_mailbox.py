"""The mailbox step in Slack: `/transition mailbox`, "I see my mail in OWA", and the Graph
credentials modal (admins only, secret stored encrypted, never echoed or logged). Signed
requests to the real endpoint, the fake Web API, the database on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.blocks.ids import MailboxAction, ViewId
from bot.core.runbook import Status, StepId
from bot.dnscheck.model import DnsConfig
from bot.ops.config import Settings
from bot.ops.secrets import SecretBox, generate_key
from storage.database import Database
from storage.models import AuditEvent, GraphCredential, SlackMessage, StepState
from storage.uow import UnitOfWork
from tests.support.fake_slack import FakeSlack
from tests.support.slack_fixtures import NO_DNS, settings_for
from tests.support.slack_requests import DEFAULT_CHANNEL, DEFAULT_USER, SlackClient
from tests.support.waiting import count_rows, eventually
from tests.watch.tenants import start_tenants

KEY = generate_key()
GUID = "72f988bf-86f1-41af-91ab-2d7cd011db47"
SECRET = "Zq8~very-secret-client-value.42"


@pytest.fixture
def slack_dns_config() -> DnsConfig:
    return NO_DNS


@pytest.fixture
def bot_settings(fake_slack: FakeSlack, slack_dns_config: DnsConfig, database_url: str) -> Settings:
    return settings_for(fake_slack, slack_dns_config, database_url, TRANSITION_SECRET_KEY=KEY)


@pytest.fixture
async def tenant_id(
    slack: SlackClient, uow_factory: Callable[[], UnitOfWork]
) -> int:  # slack first: the server migrates nothing new, the fixture db is migrated already
    ids = await start_tenants(uow_factory, ["contoso.test"], channel=DEFAULT_CHANNEL)
    return ids["contoso.test"]


def graph_values(**override: str) -> dict[str, dict[str, Any]]:
    values = {
        "azure_tenant_id": GUID,
        "client_id": GUID,
        "client_secret": SECRET,
        "addresses": "a@contoso.test b@contoso.test",
        "share": "",
    } | override
    return {k: {"value": {"type": "plain_text_input", "value": v}} for k, v in values.items()}


@dataclasses.dataclass(frozen=True)
class StepRow:
    status: str
    actor_id: str | None
    changed_at: object


async def verify_step(database_url: str, tenant: int) -> StepRow:
    db = Database(database_url)
    try:
        async with db.uow() as uow:
            row: StepState | None = await uow.steps.get(tenant, StepId.VERIFY_DATA)
            assert row is not None
            return StepRow(row.status, row.actor_id, row.changed_at)
    finally:
        await db.dispose()


async def test_mailbox_needs_a_tenant_here(slack: SlackClient, fake_slack: FakeSlack) -> None:
    response = await slack.command("/transition", "mailbox", channel_id="C0ELSEWHERE")
    assert response.status == 200
    assert "There is no transition in this channel" in response.shown_text
    assert fake_slack.calls_to("chat.postMessage") == []


async def test_i_see_my_mail_records_who_and_when_once(
    slack: SlackClient, fake_slack: FakeSlack, tenant_id: int, database_url: str
) -> None:
    response = await slack.command("/transition", "mailbox")
    assert response.status == 200
    post = await fake_slack.wait_for("chat.postMessage", lambda c: "OWA" in c.text)
    actions = post.blocks[-1]["elements"]
    assert [a["action_id"] for a in actions] == [
        MailboxAction.OPEN_OWA,
        MailboxAction.SEEN,
        MailboxAction.SETUP,
    ]
    assert actions[0]["url"].startswith("https://outlook.office.com/")

    message = {"ts": post.answer["ts"], "channel": DEFAULT_CHANNEL}
    clicked = await slack.block_action(MailboxAction.SEEN, str(tenant_id), message=message)
    assert clicked.status == 200
    row = await verify_step(database_url, tenant_id)
    assert row.status == Status.DONE and row.actor_id == DEFAULT_USER and row.changed_at
    update = await fake_slack.wait_for("chat.update", lambda c: c.params["ts"] == message["ts"])
    assert f"Data verified by <@{DEFAULT_USER}>" in update.text
    assert MailboxAction.SEEN not in json.dumps(update.blocks)  # no second confirm button

    again = await slack.block_action(
        MailboxAction.SEEN, str(tenant_id), message=message, user_id="U0BOB"
    )
    assert again.status == 200
    # Slack shows nothing of a click's ack body: the refusal goes to the clicker ephemerally.
    refusal = await fake_slack.wait_for("response_url", lambda c: "already done" in c.text)
    assert refusal.params["response_type"] == "ephemeral"
    assert (await verify_step(database_url, tenant_id)).actor_id == DEFAULT_USER


async def test_i_see_my_mail_refreshes_the_runbook(
    slack: SlackClient,
    fake_slack: FakeSlack,
    tenant_id: int,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """The click changes the step through the same path as `/transition done`, so the
    posted runbook message shows the step done (it stayed open before)."""
    await slack.command("/transition", "status")
    runbook = await fake_slack.wait_for(
        "chat.postMessage", lambda c: "DNS records" in json.dumps(c.blocks)
    )
    # the listener stores the runbook's ts after Slack answered the post: only then can a
    # later change edit that message (under load the click could otherwise come first)
    remembered = select(func.count()).select_from(SlackMessage)
    remembered = remembered.where(SlackMessage.ts == runbook.answer["ts"])
    await eventually(lambda: count_rows(sessionmaker, remembered), "the runbook's ts stored")
    await slack.command("/transition", "mailbox")
    post = await fake_slack.wait_for(
        "chat.postMessage", lambda c: str(c.params["text"]).startswith("Verify the mailbox")
    )
    message = {"ts": post.answer["ts"], "channel": DEFAULT_CHANNEL}
    clicked = await slack.block_action(MailboxAction.SEEN, str(tenant_id), message=message)
    assert clicked.status == 200
    update = await fake_slack.wait_for(
        "chat.update", lambda c: c.params["ts"] == runbook.answer["ts"]
    )
    assert f"Verify mailbox data* — done by <@{DEFAULT_USER}>" in json.dumps(
        update.blocks, ensure_ascii=False
    )


async def test_open_owa_click_is_acked(slack: SlackClient, tenant_id: int) -> None:
    response = await slack.block_action(MailboxAction.OPEN_OWA)
    assert response.status == 200 and "wrong" not in response.shown_text


async def test_only_admins_open_the_credentials_modal(
    slack: SlackClient, fake_slack: FakeSlack, tenant_id: int
) -> None:
    refused = await slack.block_action(MailboxAction.SETUP, str(tenant_id))
    assert refused.status == 200
    await fake_slack.wait_for(
        "response_url",
        lambda c: (
            "Only a workspace admin or owner" in c.text and c.params["response_type"] == "ephemeral"
        ),
    )
    assert fake_slack.calls_to("views.open") == []

    fake_slack.users[DEFAULT_USER] = {"id": DEFAULT_USER, "is_admin": True}
    await slack.block_action(MailboxAction.SETUP, str(tenant_id))
    opened = await fake_slack.wait_for("views.open")
    view = opened.params["view"]
    assert view["callback_id"] == ViewId.GRAPH
    assert json.loads(view["private_metadata"]) == {"tenant": tenant_id, "channel": DEFAULT_CHANNEL}
    assert "initial_value" not in json.dumps(view)  # nothing prefilled, least of all a secret


async def test_setup_click_is_acked_first_and_a_rate_limited_admin_check_refuses(
    slack: SlackClient, fake_slack: FakeSlack, tenant_id: int
) -> None:
    """users.info answering 429 (Retry-After 5 s) must not hold the ack nor outlive the
    trigger_id: the check gives up, the clicker is told to try again, no modal opens."""
    fake_slack.users[DEFAULT_USER] = {"id": DEFAULT_USER, "is_admin": True}
    fake_slack.fail_next("users.info", status=429, retry_after=5)
    clicked = await slack.block_action(MailboxAction.SETUP, str(tenant_id))
    assert clicked.status == 200
    refusal = await fake_slack.wait_for("response_url", lambda c: "could not check" in c.text)
    assert refusal.params["response_type"] == "ephemeral" and "Try again" in refusal.text
    assert fake_slack.calls_to("views.open") == []
    # Slack answers again: the next click opens the modal
    await slack.block_action(MailboxAction.SETUP, str(tenant_id))
    opened = await fake_slack.wait_for("views.open")
    assert opened.params["view"]["callback_id"] == ViewId.GRAPH


async def test_credentials_are_stored_encrypted_and_never_echoed(
    slack: SlackClient,
    fake_slack: FakeSlack,
    tenant_id: int,
    database_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    meta = json.dumps({"tenant": tenant_id, "channel": DEFAULT_CHANNEL})
    fake_slack.users[DEFAULT_USER] = {"id": DEFAULT_USER, "is_admin": True}
    with caplog.at_level(logging.DEBUG):
        bad = await slack.view_submission(
            ViewId.GRAPH, graph_values(client_id="nope"), private_metadata=meta
        )
        assert bad.json["response_action"] == "errors"
        assert set(bad.json["errors"]) == {"client_id"}

        ok = await slack.view_submission(ViewId.GRAPH, graph_values(), private_metadata=meta)
        assert ok.status == 200 and ok.text == ""
        await fake_slack.wait_for("chat.postMessage", lambda c: "automatically" in c.text)

    db = Database(database_url)
    try:
        async with db.uow() as uow:
            row = (await uow.session.scalars(select(GraphCredential))).one()
            assert row.tenant_id == tenant_id and row.client_id == GUID
            assert SECRET not in row.secret_encrypted
            assert SecretBox(KEY).decrypt(row.secret_encrypted) == SECRET
            assert row.addresses == {"addresses": ["a@contoso.test", "b@contoso.test"]}
            assert row.set_by == DEFAULT_USER
            events = (await uow.session.scalars(select(AuditEvent))).all()
            assert "mailbox.credentials" in [e.action for e in events]
            assert SECRET not in json.dumps([e.details for e in events])
    finally:
        await db.dispose()
    assert all(SECRET not in json.dumps(c.params, default=str) for c in fake_slack.calls)
    assert SECRET not in caplog.text


async def test_non_admin_submission_is_refused_and_saves_nothing(
    slack: SlackClient, tenant_id: int, database_url: str
) -> None:
    meta = json.dumps({"tenant": tenant_id, "channel": DEFAULT_CHANNEL})
    response = await slack.view_submission(ViewId.GRAPH, graph_values(), private_metadata=meta)
    assert "Only a workspace admin" in json.dumps(response.json)
    db = Database(database_url)
    try:
        async with db.uow() as uow:
            assert (await uow.session.scalars(select(GraphCredential))).all() == []
    finally:
        await db.dispose()


async def test_other_workspace_cannot_set_credentials(
    slack: SlackClient, fake_slack: FakeSlack, tenant_id: int, database_url: str
) -> None:
    fake_slack.users[DEFAULT_USER] = {"id": DEFAULT_USER, "is_admin": True}
    meta = json.dumps({"tenant": tenant_id, "channel": DEFAULT_CHANNEL})
    response = await slack.view_submission(
        ViewId.GRAPH, graph_values(), private_metadata=meta, team_id="T0OTHER"
    )
    assert "not in this workspace" in json.dumps(response.json)
    db = Database(database_url)
    try:
        async with db.uow() as uow:
            assert (await uow.session.scalars(select(GraphCredential))).all() == []
    finally:
        await db.dispose()
