"""The local autodiscover step in Slack: an on-premises tenant with an internal DNS server (a
second BIND view), the watch asking it, what it returns shown on the step, and the step
completed by the bot and announced exactly once after a DNS UPDATE."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from sqlalchemy import func, select

from bot.core.runbook import Status, StepId
from bot.ops.config import Settings
from storage.database import Database
from storage.models import WatchPoll
from tests.slack_tenants.conftest import start_tenant, status_of
from tests.support.bind import BindServer
from tests.support.bind_fixtures import ZONES_DIR, BindFactory
from tests.support.fake_slack import ApiCall, FakeSlack
from tests.support.slack_fixtures import settings_for
from tests.support.slack_requests import SlackClient
from tests.support.waiting import eventually
from tests.support.zones import make_zone, microsoft365_records

DOMAIN = "onprem.test"
INTERNAL = "127.0.0.4"
ANNOUNCED = "Local autodiscover points to Exchange Online"


def public_zone() -> str:
    records = [r for r in microsoft365_records(DOMAIN, mx=False) if "autodiscover" not in r]
    # hybrid: the public autodiscover still points at the Exchange server until MX moves
    records += ["@ MX 10 mail.onprem.test.", "mail A 192.0.2.25", "autodiscover A 192.0.2.25"]
    return make_zone(DOMAIN, records)


@pytest.fixture
def split_dns(bind_factory: BindFactory) -> BindServer:
    outlook = (ZONES_DIR / "outlook.com.zone").read_text()
    public = {DOMAIN: public_zone(), "outlook.com": outlook}
    internal = make_zone(DOMAIN, ["autodiscover CNAME exch01.onprem.test.", "exch01 A 10.0.0.20"])
    return bind_factory(
        views={"127.0.0.1": public, "127.0.0.2": public, INTERNAL: {DOMAIN: internal}}
    )


@pytest.fixture
def bot_settings(fake_slack: FakeSlack, split_dns: BindServer, database_url: str) -> Settings:
    return settings_for(
        fake_slack,
        split_dns.dns_config(timeout=2.0),
        database_url,
        TRANSITION_POLL_SECONDS="0.5",
        TRANSITION_FAST_POLL_SECONDS="0.5",
    )


def local_line(call: ApiCall) -> str:
    texts = (json.dumps(b, ensure_ascii=False) for b in call.blocks)
    return next((t for t in texts if "Local autodiscover* —" in t), "")


async def last_polled(database_url: str) -> datetime | None:
    db = Database(database_url)
    try:
        async with db.uow() as uow:
            return await uow.session.scalar(select(func.max(WatchPoll.last_polled_at)))
    finally:
        await db.dispose()


async def test_internal_autodiscover_is_shown_then_completed_and_announced_once(
    slack: SlackClient, fake_slack: FakeSlack, split_dns: BindServer, database_url: str
) -> None:
    internal = f"{INTERNAL}:{split_dns.port}"
    await start_tenant(
        slack, fake_slack, name="Onprem", domains=DOMAIN, onprem=True, internal_dns=internal
    )
    shown = await fake_slack.wait_for(
        "chat.update", lambda c: "CNAME exch01.onprem.test" in local_line(c)
    )
    assert f"{internal} answers CNAME exch01.onprem.test" in local_line(shown)
    step = (await status_of(database_url)).step(StepId.AUTODISCOVER_LOCAL)
    assert step.status is Status.OPEN
    assert step.evidence is not None and "exch01.onprem.test" in step.evidence["summary"]
    assert not [c for c in fake_slack.calls_to("chat.postMessage") if ANNOUNCED in c.text]

    await split_dns.set_records(
        DOMAIN, "autodiscover", "CNAME", "autodiscover.outlook.com.", servers=[INTERNAL]
    )
    await fake_slack.wait_for("chat.postMessage", lambda c: ANNOUNCED in c.text)

    async def done() -> bool:
        local = (await status_of(database_url)).step(StepId.AUTODISCOVER_LOCAL)
        return local.status is Status.DONE and local.actor_id == "bot"

    await eventually(done, "the bot completing the local autodiscover step")
    # more polls of the unchanged record announce nothing more
    for _ in range(2):
        since = await last_polled(database_url)

        async def polled_again(since: datetime | None = since) -> bool:
            latest = await last_polled(database_url)
            return latest is not None and since is not None and latest > since

        await eventually(polled_again, "another poll")
    announced = [c for c in fake_slack.calls_to("chat.postMessage") if ANNOUNCED in c.text]
    assert len(announced) == 1
