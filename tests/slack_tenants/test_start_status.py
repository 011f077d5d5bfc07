"""`/transition start` (modal, binding, refusals), `status`, and the runbook's buttons."""

from __future__ import annotations

import json

from bot.core.runbook import Status, StepId
from tests.slack_tenants.conftest import (
    BOB,
    COMMAND,
    OTHER_TEAM,
    OWNER,
    ephemeral,
    runbook_message,
    start_tenant,
    start_values,
    status_of,
)
from tests.support.fake_slack import BOT_USER, ApiCall, FakeSlack
from tests.support.slack_requests import DEFAULT_CHANNEL, SlackClient


async def test_start_opens_the_modal_and_submit_binds_and_posts_the_runbook(
    slack: SlackClient, fake_slack: FakeSlack, database_url: str
) -> None:
    response = await slack.command(COMMAND, "start contoso.com fabrikam.com")
    assert response.status == 200
    opened = await fake_slack.wait_for("views.open")
    # the trigger_id is used first (after Bolt's own auth.test)
    assert next(c.method for c in fake_slack.calls if c.method != "auth.test") == "views.open"
    view = opened.params["view"]
    assert view["callback_id"] == "tenant.start"
    domains = next(b for b in view["blocks"] if b.get("block_id") == "domains")
    assert domains["element"]["initial_value"] == "contoso.com fabrikam.com"

    values = start_values(domains="contoso.com fabrikam.com")
    submitted = await slack.view_submission(
        "tenant.start", values, private_metadata=json.dumps({"channel": DEFAULT_CHANNEL})
    )
    assert submitted.status == 200 and submitted.text == ""  # the modal closes
    post = await fake_slack.wait_for(
        "chat.postMessage", lambda c: "0 of 8 done" in str(c.params.get("text"))
    )
    assert post.params["channel"] == DEFAULT_CHANNEL
    shown = json.dumps(post.blocks)
    for title in ("Software upgrades", "Move MX", "Local autodiscover", "Partner of record"):
        assert title in shown
    assert "Not needed" in shown
    await fake_slack.wait_for(
        "chat.postMessage", lambda c: "changed their password" in str(c.params.get("text"))
    )

    status = await status_of(database_url)
    assert status.tenant.name == "Contoso" and status.tenant.created_by == OWNER
    assert [d.ascii for d in status.tenant.domains] == ["contoso.com", "fabrikam.com"]
    assert status.tenant.approvals_needed == 2 and status.tenant.time_zone == "Europe/Berlin"


async def test_second_start_in_the_channel_is_refused_and_points_to_status(
    slack: SlackClient, fake_slack: FakeSlack, database_url: str
) -> None:
    await start_tenant(slack, fake_slack)
    opened = len(fake_slack.calls_to("views.open"))
    refused = await slack.command(COMMAND, "start fabrikam.com")
    assert refused.json is None or refused.json.get("response_type") != "in_channel"
    assert "already runs the transition of *Contoso*" in refused.shown_text
    assert "/transition status" in refused.shown_text
    assert len(fake_slack.calls_to("views.open")) == opened  # no modal for a refused start
    # a submit racing past the check is refused inline, and nothing changes
    raced = await slack.view_submission(
        "tenant.start",
        start_values(name="Fabrikam", domains="fabrikam.com"),
        private_metadata=json.dumps({"channel": DEFAULT_CHANNEL}),
    )
    assert raced.json["response_action"] == "errors"
    assert "/transition status" in raced.json["errors"]["name"]
    assert (await status_of(database_url)).tenant.name == "Contoso"


async def test_invalid_fields_come_back_as_inline_errors(
    slack: SlackClient, fake_slack: FakeSlack, database_url: str
) -> None:
    values = start_values(
        domains="contoso.com not_a;domain",
        time_zone="Mars/Olympus",
        approvers=(BOB,),
        needed="2",
        onprem=True,
        internal_dns="dc01.corp",  # not an IP (an empty one is allowed: the manual Done stays)
    )
    response = await slack.view_submission(
        "tenant.start", values, private_metadata=json.dumps({"channel": DEFAULT_CHANNEL})
    )
    assert response.status == 200
    body = response.json
    assert body["response_action"] == "errors"
    assert set(body["errors"]) == {"domains", "time_zone", "approvers", "internal_dns"}
    assert fake_slack.calls_to("chat.postMessage") == []
    status = await slack.command(COMMAND, "status")
    assert "no transition in this channel" in status.shown_text


async def test_status_shows_steps_progress_and_buttons(
    slack: SlackClient, fake_slack: FakeSlack
) -> None:
    await start_tenant(slack, fake_slack)
    response = await slack.command(COMMAND, "status")
    assert response.status == 200 and response.text == ""

    def runbooks() -> list[ApiCall]:
        return [
            c for c in fake_slack.calls_to("chat.postMessage") if "of 8 done" in c.params["text"]
        ]

    await fake_slack.wait_for("chat.postMessage", lambda c: len(runbooks()) == 2)
    post = runbooks()[1]
    buttons = [e for b in post.blocks if b["type"] == "actions" for e in b["elements"]]
    actions = [e["action_id"] for e in buttons]
    # every step but the one not needed, and but dns and mx: only the bot's checks do those
    done = [e["value"].split(":")[1] for e in buttons if e["action_id"] == "runbook.done"]
    assert done == ["software", "passwords", "verify-data", "lync", "partner"]
    assert "runbook.dns_recheck" in actions
    assert "0 of 8 done" in post.params["text"]


async def test_start_tenant_returns_once_the_post_start_dns_check_is_recorded(
    slack: SlackClient, fake_slack: FakeSlack, database_url: str
) -> None:
    """The helper's promise the other tests rely on: nothing changes the `dns` step after it
    returns (the check recorded its evidence already; here: no DNS server, so "unknown")."""
    await start_tenant(slack, fake_slack)
    dns = (await status_of(database_url)).step(StepId.DNS)
    assert dns.status is Status.OPEN and dns.evidence is not None
    assert dns.evidence["passed"] is False and dns.evidence["domains"][0]["error"]


async def test_done_click_is_committed_and_the_message_updated_in_place(
    slack: SlackClient, fake_slack: FakeSlack, database_url: str
) -> None:
    await start_tenant(slack, fake_slack)
    tenant_id = (await status_of(database_url)).tenant.id
    message = runbook_message(fake_slack)
    response = await slack.block_action(
        "runbook.done", f"{tenant_id}:software", message=message, user_id=BOB
    )
    assert response.status == 200
    status = await status_of(database_url)  # committed before the ack came back
    software = status.step(StepId.SOFTWARE)
    assert software.status is Status.DONE and software.actor_id == BOB
    update = await fake_slack.wait_for("chat.update", lambda c: c.params["ts"] == message["ts"])
    assert "1 of 8 done" in update.params["text"]

    await slack.block_action("runbook.reopen", f"{tenant_id}:software", message=message)
    assert (await status_of(database_url)).step(StepId.SOFTWARE).status is Status.OPEN


async def test_refusals_are_ephemeral_and_change_nothing(
    slack: SlackClient, fake_slack: FakeSlack, database_url: str
) -> None:
    no_tenant = await slack.command(COMMAND, "status")
    assert "no transition in this channel" in no_tenant.shown_text
    assert no_tenant.json is None or no_tenant.json.get("response_type") != "in_channel"

    await start_tenant(slack, fake_slack)
    tenant_id = (await status_of(database_url)).tenant.id
    message = runbook_message(fake_slack)
    await slack.block_action("runbook.done", f"{tenant_id}:software", message=message)
    before = await status_of(database_url)
    await slack.block_action("runbook.done", f"{tenant_id}:software", message=message, user_id=BOB)
    # Done on dns / mx from an old message (the buttons are gone now) or typed
    await slack.block_action("runbook.done", f"{tenant_id}:mx", message=message)
    await slack.block_action("runbook.done", f"{tenant_id}:dns", message=message)
    await slack.block_action("runbook.done", f"{tenant_id}:autodiscover-local", message=message)
    word = await slack.command(COMMAND, "done coffee")
    assert "no step `coffee`" in word.shown_text
    typed = await slack.command(COMMAND, "done dns")
    assert "The bot marks *DNS records* done when every record but MX passes" in typed.shown_text
    assert "Re-check DNS" in typed.shown_text and "/transition skip dns" in typed.shown_text
    await ephemeral(
        fake_slack,
        "/transition reopen software",
        "The bot marks *Move MX* done when every authoritative name server",
        "The bot marks *DNS records* done",
        "not needed",
    )
    assert await status_of(database_url) == before


async def test_another_workspace_can_neither_see_nor_change_the_tenant(
    slack: SlackClient, fake_slack: FakeSlack, database_url: str
) -> None:
    await start_tenant(slack, fake_slack)
    tenant_id = (await status_of(database_url)).tenant.id
    before = await status_of(database_url)

    # Single-token mode: refused at the door (tests/hostile/test_other_workspaces.py)
    seen = await slack.command(COMMAND, "status", team_id=OTHER_TEAM)
    assert "comes from another workspace" in seen.shown_text
    history = await slack.command(COMMAND, "history", team_id=OTHER_TEAM)
    assert "comes from another workspace" in history.shown_text
    await slack.block_action(
        "runbook.done",
        f"{tenant_id}:software",
        message=runbook_message(fake_slack),
        team_id=OTHER_TEAM,
    )
    await slack.block_action("runbook.passwords_ack", str(tenant_id), team_id=OTHER_TEAM)
    done = await slack.command(COMMAND, "done software", team_id=OTHER_TEAM)
    assert "comes from another workspace" in done.shown_text
    await ephemeral(fake_slack, "comes from another workspace")
    assert await status_of(database_url) == before


async def test_skip_asks_a_reason_in_a_modal(
    slack: SlackClient, fake_slack: FakeSlack, database_url: str
) -> None:
    fake_slack.channel_members[DEFAULT_CHANNEL] = [BOT_USER, OWNER, BOB]
    await start_tenant(slack, fake_slack)
    tenant_id = (await status_of(database_url)).tenant.id
    message = runbook_message(fake_slack)
    await slack.block_action("runbook.skip", f"{tenant_id}:lync", message=message)
    opened = await fake_slack.wait_for(
        "views.open", lambda c: c.params["view"]["callback_id"] == "runbook.skip_reason"
    )
    meta = opened.params["view"]["private_metadata"]
    empty = await slack.view_submission(
        "runbook.skip_reason",
        {"reason": {"value": {"type": "plain_text_input", "value": ""}}},
        private_metadata=meta,
    )
    assert empty.json["response_action"] == "errors" and "reason" in empty.json["errors"]
    reason = {"reason": {"value": {"type": "plain_text_input", "value": "No Lync here"}}}
    ok = await slack.view_submission("runbook.skip_reason", reason, private_metadata=meta)
    assert ok.status == 200 and ok.text == ""
    lync = (await status_of(database_url)).step(StepId.LYNC)
    assert lync.status is Status.SKIPPED and lync.note == "No Lync here"
    update = await fake_slack.wait_for("chat.update", lambda c: c.params["ts"] == message["ts"])
    assert "No Lync here" in json.dumps(update.blocks)
    # the update keeps the passwords line's member count (2 people, the bot left out)
    assert "0 of 2 people confirmed their new password" in json.dumps(update.blocks)


async def test_skip_is_refused_before_the_reason_modal_opens(
    slack: SlackClient, fake_slack: FakeSlack, database_url: str
) -> None:
    """A finished step, a step that cannot be skipped, another workspace's tenant: the refusal
    comes at the click, not after someone typed a reason; no modal opens."""
    await start_tenant(slack, fake_slack)
    tenant_id = (await status_of(database_url)).tenant.id
    message = runbook_message(fake_slack)
    await slack.command(COMMAND, "done software")
    opened = len(fake_slack.calls_to("views.open"))
    before = await status_of(database_url)
    for value, team in (
        (f"{tenant_id}:software", None),
        (f"{tenant_id}:mx", None),
        (f"{tenant_id}:autodiscover-local", None),
        (f"{tenant_id}:lync", OTHER_TEAM),
    ):
        extra = {"team_id": team} if team else {}
        response = await slack.block_action("runbook.skip", value, message=message, **extra)
        assert response.status == 200
    await ephemeral(
        fake_slack,
        "*Software upgrades* is already done",
        "*Move MX* cannot be skipped",
        "not needed",
        "comes from another workspace",
    )
    assert len(fake_slack.calls_to("views.open")) == opened
    assert await status_of(database_url) == before


async def test_history_is_newest_first(slack: SlackClient, fake_slack: FakeSlack) -> None:
    await start_tenant(slack, fake_slack)
    await slack.command(COMMAND, "done software")
    await slack.command(COMMAND, "skip lync not used")
    response = await slack.command(COMMAND, "history")
    text = response.shown_text
    assert text.index("step.skip") < text.index("step.done") < text.index("tenant.start")


async def test_owner_picker_assigns_a_step_and_reminders_name_the_owner(
    slack: SlackClient, fake_slack: FakeSlack, database_url: str
) -> None:
    await start_tenant(slack, fake_slack)
    post = next(
        c for c in fake_slack.calls_to("chat.postMessage") if "of 8 done" in c.params["text"]
    )
    picker = next(b for b in post.blocks if b.get("block_id", "").endswith(":dns"))
    assert picker["accessory"]["type"] == "users_select"
    payload = {
        "type": "block_actions",
        "team": {"id": slack.team_id},
        "user": {"id": OWNER, "team_id": slack.team_id},
        "api_app_id": "A0TRANSITION",
        "container": {"type": "message", "message_ts": "7.000001", "channel_id": DEFAULT_CHANNEL},
        "channel": {"id": DEFAULT_CHANNEL},
        "trigger_id": "1.2",
        "response_url": fake_slack.response_url(),
        "message": {"ts": "7.000001"},
        "actions": [
            {
                "type": "users_select",
                "action_id": picker["accessory"]["action_id"],
                "block_id": picker["block_id"],
                "selected_user": BOB,
                "action_ts": "1.0",
            }
        ],
    }
    response = await slack.interaction(payload)
    assert response.status == 200
    assert (await status_of(database_url)).step(StepId.DNS).owner_id == BOB
    update = await fake_slack.wait_for("chat.update", lambda c: c.params["ts"] == "7.000001")
    assert f"Owner: <@{BOB}>" in json.dumps(update.blocks)
