"""GET /metrics after a real flow: every series the issue names moved.

One bot with its background jobs on (fast polls), BIND, the fake Slack: a `/transition check`
whose post Slack refuses (not_in_channel), then a tenant whose MX already moved, so the watch
polls it and the sender announces.
"""

from __future__ import annotations

import dataclasses

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from bot.core.tenant_form import TenantForm, validate
from bot.ops.config import Settings
from bot.services.common import Caller
from bot.services.tenants import start_tenant
from tests.support.fake_slack import DEFAULT_TEAM, FakeSlack
from tests.support.slack_fixtures import StartServer
from tests.support.slack_requests import DEFAULT_USER
from tests.support.waiting import eventually

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


async def scrape(base_url: str) -> Samples:
    async with aiohttp.ClientSession() as session, session.get(base_url + "/metrics") as r:
        assert r.status == 200
        assert r.headers["Content-Type"].startswith("text/plain")
        text = await r.text()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_metrics_move_with_a_real_flow(
    bot_server: StartServer, bot_settings: Settings, fake_slack: FakeSlack
) -> None:
    settings = dataclasses.replace(bot_settings, poll_seconds=0.5, fast_poll_seconds=0.5)
    server = await bot_server(settings)
    before = await scrape(server.base_url)

    fake_slack.fail_next("chat.postMessage", error="not_in_channel")
    response = await server.slack.command("/transition", "check premx.test")
    assert response.status == 200
    await fake_slack.wait_for("response_url")  # the report, after chat.postMessage refused

    form = validate(TenantForm(name="Moved", domains="moved.test", approvers=(DEFAULT_USER,)))
    caller = Caller(team_id=DEFAULT_TEAM, user_id=DEFAULT_USER, channel_id="C0MOVED")
    await start_tenant(server.runtime.db.uow(), caller, form)
    await fake_slack.wait_for("chat.postMessage", lambda c: c.params.get("channel") == "C0MOVED")

    after: Samples = {}

    def moved(name: str, **labels: str) -> bool:
        return value(after, name, **labels) > value(before, name, **labels)

    expected = [
        ("transition_slack_requests_total", {"kind": "command", "outcome": "ok"}),
        ("transition_ack_latency_seconds_count", {}),
        ("transition_dns_query_seconds_count", {}),
        ("transition_polls_total", {"outcome": "ok"}),
        ("transition_announcements_total", {"outcome": "sent"}),
        (
            "transition_slack_api_errors_total",
            {"method": "chat.postMessage", "error": "not_in_channel"},
        ),
        ("transition_scheduler_lag_seconds_count", {}),
    ]
    missing: list[str] = []

    async def all_moved() -> bool:
        nonlocal after, missing
        after = await scrape(server.base_url)  # counted just after the calls: poll
        missing = [name for name, labels in expected if not moved(name, **labels)]
        if value(after, "transition_outbox_depth") != 0:  # set by the tick after the post
            missing.append("transition_outbox_depth back to 0")
        return not missing

    await eventually(all_moved, "every series to move", context=lambda: f"missing: {missing}")
    assert ("transition_outbox_depth", ()) in after
    assert ("transition_outbox_oldest_age_seconds", ()) in after
    assert value(after, "transition_outbox_oldest_age_seconds") == 0  # nothing waits
