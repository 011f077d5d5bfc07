"""The start modal offers another provider, named by its MX host, when that is what the
domain's mail comes from today, and keeps it on the tenant when picked (BIND on loopback)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.dnscheck.model import DnsConfig
from bot.services import source_choice
from tests.slack_tenants.conftest import COMMAND, start_tenant, start_values
from tests.slack_tenants.test_source import stored_source
from tests.support.fake_slack import FakeSlack
from tests.support.slack_requests import DEFAULT_CHANNEL, SlackClient

OTHER = "other:mx01.mailhost.example"


@pytest.fixture
def slack_dns_config(request: pytest.FixtureRequest) -> DnsConfig:
    config: DnsConfig = request.getfixturevalue("bind").dns_config(timeout=3.0)
    return config


def source_element(view: dict[str, Any]) -> dict[str, Any]:
    element: dict[str, Any] = next(b for b in view["blocks"] if b["block_id"] == "source")[
        "element"
    ]
    return element


def input_ids(view: dict[str, Any]) -> list[tuple[str, str]]:
    return [(b["block_id"], b["element"]["action_id"]) for b in view["blocks"] if "element" in b]


async def test_the_modal_offers_the_detected_provider_and_keeps_it_when_picked(
    slack: SlackClient, fake_slack: FakeSlack, database_url: str
) -> None:
    await slack.command(COMMAND, "start hoster.test")
    opened = await fake_slack.wait_for("views.open")
    updated = await fake_slack.wait_for("views.update")
    assert updated.params["view_id"] == opened.answer["view"]["id"]
    before = source_element(opened.params["view"])
    element = source_element(updated.params["view"])
    options = element["options"]
    assert [o["value"] for o in options] == [*(o["value"] for o in before["options"]), OTHER]
    assert options[-1]["text"]["text"] == "Another provider (mx01.mailhost.example) (detected)"
    assert element["initial_option"] == options[0]  # detection stays the default
    # what was typed meanwhile stays: the same block and action ids
    assert input_ids(updated.params["view"]) == input_ids(opened.params["view"])

    await start_tenant(slack, fake_slack, domains="hoster.test", source=OTHER)
    assert await stored_source(database_url) == OTHER


async def test_only_another_provider_of_the_primary_domain_is_offered(
    slack_dns_config: DnsConfig,
) -> None:
    found = await source_choice.detected_other("hoster.test google.test", slack_dns_config)
    assert found is not None and found.other_choice == OTHER
    for domains in ("google.test hoster.test", "onprem.test", "moved.test", "not a domain!"):
        assert await source_choice.detected_other(domains, slack_dns_config) is None, domains
    silent = DnsConfig(nameservers=(("127.0.0.3", slack_dns_config.auth_port),), timeout=0.2)
    assert await source_choice.detected_other("hoster.test", silent) is None


@pytest.mark.parametrize("bad", ["other:", "other:not a host", "other:nodot", "lotus"])
async def test_a_bad_source_is_a_modal_error_and_changes_nothing(
    slack: SlackClient, fake_slack: FakeSlack, database_url: str, bad: str
) -> None:
    response = await slack.view_submission(
        "tenant.start",
        start_values(domains="hoster.test", source=bad),
        private_metadata=json.dumps({"channel": DEFAULT_CHANNEL}),
    )
    assert response.status == 200
    body = response.json
    assert body["response_action"] == "errors" and set(body["errors"]) == {"source"}
    hint = "other:mx01.hoster.net" if bad.startswith("other:") else "other:<mx host>"
    assert hint in body["errors"]["source"]
    assert fake_slack.calls_to("chat.postMessage") == []
    status = await slack.command(COMMAND, "status")
    assert "no transition in this channel" in status.shown_text
