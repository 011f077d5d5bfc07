"""The watch audits with the tenant's own records from Graph (fake Graph over TLS): read once
a day per tenant, cached in the database in between (real BIND, real DB, injected clock)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.mailbox.form import validate_graph_form
from bot.mailbox.graph import DomainReader
from bot.ops.secrets import SecretBox, generate_key
from bot.services.common import Caller
from bot.services.mailbox import save_graph_credentials
from bot.watch.poller import Poller, WatchOptions
from storage.uow import UnitOfWork
from tests.dnscheck.test_tenant_graph import service_records
from tests.support.bind_fixtures import BindFactory
from tests.support.fake_graph import FakeGraph
from tests.support.zones import make_zone, microsoft365_records
from tests.watch.tenants import REQUESTER, TEAM, channel_for, start_tenants
from tests.watch.test_poller import DUE_NOW

DOMAIN = "truth0001.test"


async def mx_verdict(sessionmaker: async_sessionmaker[AsyncSession], tenant: int) -> Any:
    async with UnitOfWork(sessionmaker) as uow:
        stored = await uow.observations.for_tenants([tenant])
    return stored[tenant][1]["domains"][DOMAIN]["verdicts"]["mx"]


async def test_the_watch_reads_the_tenants_records_once_a_day(
    bind_factory: BindFactory,
    sessionmaker: async_sessionmaker[AsyncSession],
    uow_factory: Callable[[], UnitOfWork],
    fake_graph: FakeGraph,
) -> None:
    # the zone has the usual Microsoft 365 MX; the tenant's own MX is under mx.microsoft
    zone = make_zone(DOMAIN, microsoft365_records(DOMAIN))
    bind = bind_factory(views={"127.0.0.1": {DOMAIN: zone}, "127.0.0.2": {DOMAIN: zone}})
    tenant = (await start_tenants(uow_factory, [DOMAIN]))[DOMAIN]
    box = SecretBox(generate_key())
    form = validate_graph_form(
        fake_graph.azure_tenant_id, "0f0e0d0c-0b0a-0908-0706-050403020100", "s3cret", "", ""
    )
    fake_graph.client_id, fake_graph.client_secret = form.client_id, "s3cret"
    caller = Caller(TEAM, REQUESTER, channel_for(DOMAIN))
    await save_graph_credentials(uow_factory(), caller, tenant, form, box, is_admin=True)

    def graph_says(mx: str) -> None:
        fake_graph.domains = {
            DOMAIN: {"isVerified": True, "service": service_records(DOMAIN, mx), "verification": []}
        }

    graph_says("truth0001-test.o-v1.mx.microsoft")
    now = [datetime.now(UTC)]
    poller = Poller(
        sessionmaker,
        bind.dns_config(timeout=2.0),
        WatchOptions("r1", poll_seconds=DUE_NOW, fast_poll_seconds=DUE_NOW),
        secrets=box,
        domain_reader=DomainReader(fake_graph.config),
        clock=lambda: now[0],
    )

    await poller.run_once()
    assert await mx_verdict(sessionmaker, tenant) == "wrong"  # another Microsoft 365 MX
    assert fake_graph.count("/serviceConfigurationRecords") == 1

    graph_says("truth0001-test.mail.protection.outlook.com")  # the admin center changed
    now[0] += timedelta(hours=23)
    await poller.run_once()
    assert fake_graph.count("/serviceConfigurationRecords") == 1  # cached: not asked again
    assert await mx_verdict(sessionmaker, tenant) == "wrong"

    now[0] += timedelta(hours=2)  # more than a day since Graph was read
    await poller.run_once()
    assert fake_graph.count("/serviceConfigurationRecords") == 2
    assert await mx_verdict(sessionmaker, tenant) == "ok"
