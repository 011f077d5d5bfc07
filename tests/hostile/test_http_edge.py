"""The edge of POST /slack/events: oversized and unparsable bodies, draining, Events retries."""

import logging
import time
import uuid
from collections.abc import AsyncIterator

import aiohttp
import pytest
from apscheduler.schedulers.base import STATE_PAUSED

from bot.core.limits import MAX_BODY_BYTES
from bot.dnscheck.model import DnsConfig
from bot.jobs.background import SCHEDULER
from bot.jobs.shutdown import stop_taking_work
from bot.slack.http_guard import GATE
from tests.support.fake_slack import FakeSlack
from tests.support.slack_fixtures import StartServer
from tests.support.slack_requests import SlackClient, sign
from tests.watch.tenants import start_tenants


@pytest.fixture
def slack_dns_config() -> DnsConfig:
    """No DNS is asked here."""
    return DnsConfig(nameservers=(("127.0.0.1", 9),), timeout=0.2)


async def _post_raw(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, data=body, headers=headers) as response,
    ):
        return response.status, await response.text()


async def test_a_body_over_one_megabyte_is_refused_before_it_is_read(
    bot_server: StartServer, fake_slack: FakeSlack
) -> None:
    server = await bot_server()
    text = "x" * (MAX_BODY_BYTES * 3 // 2)
    body = server.slack.command_body("/transition", text)
    status, reply = await _post_raw(
        server.url,
        body.encode(),
        {"Content-Type": "application/x-www-form-urlencoded", **_signed(server.slack, body)},
    )
    assert status == 413
    assert "at most" in reply
    assert fake_slack.calls == [] or all(c.method == "auth.test" for c in fake_slack.calls)


async def test_a_chunked_body_over_one_megabyte_is_refused_too(bot_server: StartServer) -> None:
    server = await bot_server()
    body = server.slack.command_body("/transition", "x" * (MAX_BODY_BYTES * 3 // 2))

    async def chunks() -> AsyncIterator[bytes]:
        data = body.encode()
        for start in range(0, len(data), 65536):
            yield data[start : start + 65536]

    async with (
        aiohttp.ClientSession() as session,
        session.post(
            server.url,
            data=chunks(),
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                **_signed(server.slack, body),
            },
        ) as response,
    ):
        assert response.status == 413


def _signed(slack: SlackClient, body: str) -> dict[str, str]:
    ts = int(time.time())
    return {
        "X-Slack-Request-Timestamp": str(ts),
        "X-Slack-Signature": sign(slack.signing_secret, body, ts),
    }


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("payload=%7Bnot+json", "application/x-www-form-urlencoded"),
        ("{not json", "application/json"),
        ("[1, 2, 3]", "application/json"),
        ("payload=" + "%5B" * 100_000, "application/x-www-form-urlencoded"),
        ('{"type": "block_actions", "team": "T1", "user": 5, "actions": "x"}', "application/json"),
    ],
)
async def test_an_unparsable_signed_body_is_a_4xx_not_a_500(
    slack: SlackClient, body: str, content_type: str
) -> None:
    response = await slack.post(body, content_type)
    assert 400 <= response.status < 500, response.text
    assert "Traceback" not in response.text


async def test_forged_ids_are_refused(slack: SlackClient, fake_slack: FakeSlack) -> None:
    response = await slack.command("/transition", "status", team_id="T0'; DROP TABLE tenants;--")
    assert response.status == 400
    assert "team_id" in response.text


async def test_a_draining_server_answers_503_to_new_slack_requests(
    bot_server: StartServer,
) -> None:
    server = await bot_server()
    await stop_taking_work(server.app)  # what aiohttp's on_shutdown runs on SIGTERM
    assert not server.app[GATE].open
    assert server.app[SCHEDULER].apscheduler.state == STATE_PAUSED  # no job starts any more
    response = await server.slack.command("/transition", "help")
    assert response.status == 503
    async with aiohttp.ClientSession() as session, session.get(server.base_url + "/healthz") as r:
        assert r.status == 503  # not ready: the orchestrator stops routing here
        assert (await r.json())["reason"] == "shutting down"


async def test_an_events_retry_is_acked_and_dropped_on_any_replica(
    bot_server: StartServer, fake_slack: FakeSlack
) -> None:
    first, second = await bot_server(), await bot_server()  # one database, two replicas
    event_id = "Ev" + uuid.uuid4().hex[:10].upper()
    home = {"type": "app_home_opened", "user": "U0ALICE", "tab": "home"}

    assert (await first.slack.event(home, event_id=event_id)).status == 200
    await fake_slack.wait_for("views.publish", lambda c: c.params.get("user_id") == "U0ALICE")
    for replica, retry in ((first, 1), (second, 2)):
        response = await replica.slack.event(home, event_id=event_id, retry_num=retry)
        assert response.status == 200
    # A new event after the retries: once its publish is seen, the retries had their chance.
    other = {"type": "app_home_opened", "user": "U0BOB", "tab": "home"}
    assert (await second.slack.event(other)).status == 200
    await fake_slack.wait_for("views.publish", lambda c: c.params.get("user_id") == "U0BOB")

    published = [c.params.get("user_id") for c in fake_slack.calls_to("views.publish")]
    assert published == ["U0ALICE", "U0BOB"]


@pytest.mark.parametrize(
    ("action_id", "value"),
    [
        ("approval.approve", f"{2**63}:1"),
        ("approval.reject", f"1:{2**31}"),
        ("runbook.passwords_ack", str(2**63)),
    ],
)
async def test_ids_beyond_the_columns_find_nothing(
    bot_server: StartServer, action_id: str, value: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Found by the fuzz suite: such a number made the database driver raise."""
    server = await bot_server()
    await start_tenants(server.runtime.db.uow, ["contoso.test"])  # the lookup then runs
    response = await server.slack.block_action(action_id, value)
    assert response.status == 200
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text
