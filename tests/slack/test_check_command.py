"""``/transition check`` end to end: signed requests to the real endpoint, real BIND, the fake
Slack Web API recording what the bot sends."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from bot.blocks.ids import ActionId
from bot.ops.config import Settings
from handlers.guard import SORRY
from tests.support.bind_fixtures import BindFactory
from tests.support.fake_slack import ApiCall, FakeSlack
from tests.support.slack_fixtures import StartServer
from tests.support.slack_requests import SlackClient
from tests.support.zones import make_zone, microsoft365_records

COMMAND = "/transition"
MX_WARNING = "MX already points to Microsoft 365"


def recheck_button(call: ApiCall) -> dict[str, Any]:
    actions = [b for b in call.blocks if b["type"] == "actions"]
    buttons = [e for b in actions for e in b["elements"] if e["action_id"] == ActionId.RECHECK]
    assert len(buttons) == 1, call.blocks
    return buttons[0]


def not_auth(fake: FakeSlack) -> list[str]:
    return [c.method for c in fake.calls if c.method != "auth.test"]


async def test_check_acks_at_once_then_posts_the_report(
    slack: SlackClient, fake_slack: FakeSlack
) -> None:
    response = await slack.command(COMMAND, "check bpos.test")

    assert response.status == 200
    assert response.shown_text == "Checking bpos.test…"
    post = await fake_slack.wait_for("chat.postMessage")
    assert post.token == fake_slack.token
    assert post.params["channel"] == slack.channel_id
    assert post.blocks[0]["type"] == "header"
    assert post.blocks[0]["text"]["text"] == "DNS check: bpos.test"
    summary = post.blocks[1]["text"]["text"]
    assert "legacy" in summary and "missing" in summary
    assert "mail.global.frontbridge.com" in post.text
    assert "Fix: *" in post.text
    assert recheck_button(post)["value"] == "bpos.test"
    assert MX_WARNING not in post.text


async def test_the_ack_is_answered_before_the_audit_is_posted(
    slack: SlackClient, fake_slack: FakeSlack
) -> None:
    # One of halfsilent.test's two servers never answers: the audit waits for its timeout.
    response = await slack.command(COMMAND, "check halfsilent.test")

    assert response.shown_text == "Checking halfsilent.test…"
    assert not_auth(fake_slack) == []  # nothing reported yet when the ack arrived
    post = await fake_slack.wait_for("chat.postMessage")
    assert "unknown" in post.blocks[1]["text"]["text"]


async def test_recheck_updates_the_same_message_with_the_new_verdicts(
    bot_server: StartServer,
    bot_settings: Settings,
    bind_factory: BindFactory,
    fake_slack: FakeSlack,
) -> None:
    zone = "recheck.test"
    records = [*microsoft365_records(zone, mx=False), "@ MX 10 mail.global.frontbridge.com."]
    dns = bind_factory({zone: make_zone(zone, records, nameservers={"ns1": "127.0.0.1"})})
    server = await bot_server(dataclasses.replace(bot_settings, dns=dns.dns_config()))
    slack = server.slack

    await slack.command(COMMAND, f"check {zone}")
    post = await fake_slack.wait_for("chat.postMessage")
    assert MX_WARNING not in post.text
    ts = post.answer["ts"]

    await dns.set_records(zone, "@", "MX", "0 recheck-test.mail.protection.outlook.com.")
    click = await slack.block_action(
        ActionId.RECHECK, recheck_button(post)["value"], message={"ts": ts}
    )

    assert click.status == 200
    update = await fake_slack.wait_for("chat.update")
    assert update.params["ts"] == ts
    assert update.params["channel"] == slack.channel_id
    assert ":white_check_mark: *mx*" in update.text
    assert MX_WARNING in update.text  # every record right, and MX already moved
    assert fake_slack.calls_to("chat.postMessage") == [post]  # edited in place, not reposted


async def test_fully_moved_domain_gets_the_mx_warning(
    slack: SlackClient, fake_slack: FakeSlack
) -> None:
    await slack.command(COMMAND, "check moved.test")
    post = await fake_slack.wait_for("chat.postMessage")
    assert MX_WARNING in post.text
    assert "Every required record is right" in post.text


async def test_mx_moved_on_one_server_of_two_gets_the_partial_warning(
    slack: SlackClient, fake_slack: FakeSlack
) -> None:
    await slack.command(COMMAND, "check split.test")  # ns1 serves the new MX, ns2 the old
    post = await fake_slack.wait_for("chat.postMessage")
    assert "MX points to Microsoft 365 on ns1.split.test only" in post.text
    assert "never move MX before the mailbox data is verified" in post.text
    assert MX_WARNING not in post.text


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("check", "Which domain?"),
        ("check not a domain", "not a domain name"),
        ("check http://x", "not a full domain name"),
        ("check " + "a" * 300 + ".com", "longer than 63"),
        ("check ;rm -rf /", "not a domain name"),
        ("check 192.0.2.10", "IP address"),
    ],
)
async def test_bad_input_gets_an_ephemeral_reason_and_no_audit(
    slack: SlackClient, fake_slack: FakeSlack, text: str, says: str
) -> None:
    response = await slack.command(COMMAND, text)

    assert response.status == 200
    body = response.json or {}  # a text-only ack is a plain-text body: ephemeral
    assert body.get("response_type", "ephemeral") == "ephemeral"
    assert says in response.shown_text
    assert "Checking" not in response.shown_text  # the audit branch was never taken
    assert "Traceback" not in response.text
    assert not_auth(fake_slack) == []


async def test_nxdomain_says_the_domain_does_not_exist(
    slack: SlackClient, fake_slack: FakeSlack
) -> None:
    await slack.command(COMMAND, "check nope.test")
    reply = await fake_slack.wait_for("response_url")
    assert reply.text.startswith("nope.test does not exist in DNS")
    assert reply.params.get("response_type") == "ephemeral"
    assert fake_slack.calls_to("chat.postMessage") == []


async def test_unreachable_servers_are_never_reported_missing(
    slack: SlackClient, fake_slack: FakeSlack
) -> None:
    await slack.command(COMMAND, "check silent.test")
    reply = await fake_slack.wait_for("response_url")
    assert "could not reach" in reply.text.lower()
    assert "missing" not in reply.text
    assert fake_slack.calls_to("chat.postMessage") == []


@pytest.mark.parametrize(("text", "unknown"), [("help", False), ("", False), ("frob x", True)])
async def test_help_and_unknown_words_show_usage(
    slack: SlackClient, fake_slack: FakeSlack, text: str, unknown: bool
) -> None:
    response = await slack.command(COMMAND, text)
    assert response.status == 200
    assert "/transition check contoso.com" in response.shown_text
    assert ("I don't know `frob`" in response.shown_text) is unknown
    assert not_auth(fake_slack) == []


async def test_rate_limited_post_is_retried_and_delivered(
    slack: SlackClient, fake_slack: FakeSlack
) -> None:
    fake_slack.fail_next("chat.postMessage", status=429, retry_after=1)
    await slack.command(COMMAND, "check moved.test")
    delivered = await fake_slack.wait_for(
        "chat.postMessage", lambda c: c is not fake_slack.calls_to("chat.postMessage")[0]
    )
    assert len(fake_slack.calls_to("chat.postMessage")) == 2
    assert delivered.blocks[0]["text"]["text"] == "DNS check: moved.test"


async def test_server_error_is_retried_and_delivered(
    slack: SlackClient, fake_slack: FakeSlack
) -> None:
    fake_slack.fail_next("chat.postMessage", status=500)
    await slack.command(COMMAND, "check moved.test")
    await fake_slack.wait_for(
        "chat.postMessage", lambda c: c is not fake_slack.calls_to("chat.postMessage")[0]
    )
    assert len(fake_slack.calls_to("chat.postMessage")) == 2


async def test_channel_without_the_bot_gets_the_report_via_response_url(
    slack: SlackClient, fake_slack: FakeSlack
) -> None:
    fake_slack.channels_without_bot.add(slack.channel_id)
    await slack.command(COMMAND, "check moved.test")
    reply = await fake_slack.wait_for("response_url")
    assert reply.params["response_type"] == "in_channel"
    assert "DNS check: moved.test" in reply.text
    assert "/invite @transition-bot" in reply.text


async def test_a_failure_after_the_ack_is_an_apology_not_a_traceback(
    slack: SlackClient, fake_slack: FakeSlack
) -> None:
    fake_slack.fail_next("chat.postMessage", error="fatal_error")
    response = await slack.command(COMMAND, "check moved.test")
    assert response.status == 200
    reply = await fake_slack.wait_for("response_url")
    assert SORRY in reply.text
    assert reply.params["response_type"] == "ephemeral"
    assert "Traceback" not in reply.text


@pytest.mark.parametrize(
    "text",
    [
        "x" * 5000,
        "check " + "a." * 2000,
        "check \x00\x01\x02",
        "check <http://bpos.test|bpos.test> extra",
        "check <mailto:a@b|a@b>",
        "CHECK\t\n",
        "check 💥.test",
        "check xn--.test",
        "help " * 500,
        "\u202echeck bpos.test",
    ],
)
async def test_odd_text_is_always_answered_never_5xx(
    slack: SlackClient, fake_slack: FakeSlack, text: str
) -> None:
    response = await slack.command(COMMAND, text)
    assert response.status == 200, response.text
    assert response.shown_text
    assert "Traceback" not in response.text
