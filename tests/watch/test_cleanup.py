"""The cleanup after the move, end to end with an injected clock (never a sleep): real BIND, a
real database, the fake Slack Web API. Nothing is suggested before MX has moved everywhere and
the old MX's TTL plus the grace period have passed; then the channel is told once, with each
exact change, and the `cleanup` step is the bot's once the records are gone."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app.runtime import build_web_client
from bot.core.approvals import Decision
from bot.core.runbook import Status, StepId
from bot.ops.config import load_settings
from bot.services.approvals import request_approval, vote
from bot.services.common import Caller
from bot.services.steps import complete_step
from bot.watch.cleanup import GRACE
from bot.watch.poller import Poller, WatchOptions
from bot.watch.sender import OutboxSender, SenderOptions
from storage.uow import UnitOfWork
from tests.support.bind_fixtures import ZONES_DIR, BindFactory
from tests.support.fake_slack import FakeSlack
from tests.support.zones import make_zone, microsoft365_records
from tests.watch.tenants import APPROVERS, REQUESTER, TEAM, channel_for, m365_mx, start_tenants
from tests.watch.test_poller import DUE_NOW

DOMAIN = "gleft.test"
OLD_TTL = 3600
GOOGLE_MX = [
    f"@ {OLD_TTL} MX 1 aspmx.l.google.com.",
    f"@ {OLD_TTL} MX 5 alt1.aspmx.l.google.com.",
]
SPF_BOTH = '"v=spf1 include:_spf.google.com include:spf.protection.outlook.com ~all"'
VERIFY = '"google-site-verification=rXOxyZounnZasA8Z7oaD3c14JdjS9aKSWvsR1EbUSIQ"'


def zones() -> dict[str, str]:
    records = [
        r for r in microsoft365_records(DOMAIN, mx=False) if "v=spf1" not in r
    ]  # Google's include beside Microsoft's: mail still leaves through Google until MX moves
    records += [*GOOGLE_MX, f"@ TXT {SPF_BOTH}", f"@ TXT {VERIFY}"]
    records.append('google._domainkey TXT "v=DKIM1; k=rsa; p=MIIBIjANtest"')
    offline = {z: (ZONES_DIR / f"{z}.zone").read_text() for z in ("outlook.com", "google.com")}
    return {DOMAIN: make_zone(DOMAIN, records), **offline}


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


async def test_cleanup_is_announced_once_after_the_ttl_and_grace_then_completed(
    bind_factory: BindFactory,
    sessionmaker: async_sessionmaker[AsyncSession],
    uow_factory: Callable[[], UnitOfWork],
    fake_slack: FakeSlack,
) -> None:
    bind = bind_factory(views={"127.0.0.1": zones(), "127.0.0.2": zones()})
    tenant = (await start_tenants(uow_factory, [DOMAIN]))[DOMAIN]
    clock = Clock()
    options = WatchOptions("r1", poll_seconds=DUE_NOW, fast_poll_seconds=DUE_NOW)
    poller = Poller(sessionmaker, bind.dns_config(timeout=2.0), options, clock=clock)
    settings = load_settings(
        {"SLACK_BOT_TOKEN": fake_slack.token, "SLACK_API_URL": fake_slack.api_url}, dotenv=False
    )
    sender = OutboxSender(
        sessionmaker,
        build_web_client(settings),
        SenderOptions("r1", channel_gap=0.0),
        clock=clock,
    )

    async def poll() -> list[str]:
        clock.now += timedelta(seconds=1)
        (result,) = await poller.poll_tenants([tenant])
        assert result.stored, result
        await sender.run_once()
        async with UnitOfWork(sessionmaker) as uow:
            rows = await uow.outbox.for_tenant(tenant)
            return [r.kind for r in rows]

    assert "records-ready" in await poll()  # Google's include kept: the dns step passes
    requester = Caller(TEAM, REQUESTER, channel_for(DOMAIN))
    await complete_step(uow_factory(), requester, StepId.VERIFY_DATA.value, "seen in OWA")
    request = await request_approval(uow_factory(), requester, "mx")
    await vote(uow_factory(), Caller(TEAM, APPROVERS[0], channel_for(DOMAIN)), tenant,
               request.id, Decision.APPROVE)  # fmt: skip
    await poll()

    await bind.set_records(DOMAIN, "@", "MX", m365_mx(DOMAIN))
    kinds = await poll()
    assert "mx-moved" in kinds and "cleanup-due" not in kinds
    moved_at = clock.now

    # a second before the old MX's TTL plus the grace period: nothing is suggested yet
    clock.now = moved_at + timedelta(seconds=OLD_TTL) + GRACE - timedelta(seconds=2)
    assert "cleanup-due" not in await poll()

    clock.now = moved_at + timedelta(seconds=OLD_TTL) + GRACE
    kinds = await poll()
    assert kinds.count("cleanup-due") == 1
    message = await fake_slack.wait_for("chat.postMessage", lambda c: "can go" in c.text)
    shown = "\n".join(b["text"]["text"] for b in message.blocks if "text" in b)
    assert f"{DOMAIN}: Delete google._domainkey.{DOMAIN} TXT" in shown
    assert (
        f'{DOMAIN}: Change TXT "v=spf1 include:_spf.google.com include:spf.protection.outlook'
        '.com ~all" to "v=spf1 include:spf.protection.outlook.com ~all"'
    ) in shown
    assert f"{DOMAIN}: Delete TXT" in shown and "google-site-verification" in shown

    assert (await poll()).count("cleanup-due") == 1  # told once
    async with UnitOfWork(sessionmaker) as uow:
        step = await uow.steps.get(tenant, StepId.CLEANUP)
        assert step is not None and step.status == Status.OPEN

    await bind.update(
        DOMAIN,
        replace={
            ("@", "TXT"): ['"MS=ms12345678"', '"v=spf1 include:spf.protection.outlook.com ~all"'],
        },
        delete=[("google._domainkey", "TXT")],
    )
    kinds = await poll()
    assert kinds.count("cleanup-due") == 1 and kinds.count("cleanup-done") == 1
    async with UnitOfWork(sessionmaker) as uow:
        step = await uow.steps.get(tenant, StepId.CLEANUP)
        assert step is not None and step.status == Status.DONE and step.actor_id == "bot"
    assert (await poll()).count("cleanup-done") == 1
