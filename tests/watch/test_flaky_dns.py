"""A flaky name server is not a change: real BIND that answers, then stops answering (one
server, then every server) for a poll each, then answers again; the tenant (two domains) is
announced "records ready" once, and nothing else, however the polls in between went.

The silence is real: the relay for 127.0.0.2 and then named itself are stopped with SIGSTOP
(queries sit unanswered until the resolver times out) and resumed with SIGCONT.
"""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.domain import Domain
from bot.core.tenant_form import ValidTenant
from bot.services.common import Caller
from bot.services.tenants import start_tenant
from bot.watch.poller import Poller, WatchOptions
from storage.uow import UnitOfWork
from tests.support.bind_fixtures import BindFactory
from tests.support.fake_slack import FakeSlack
from tests.support.waiting import eventually
from tests.watch.tenants import APPROVERS, REQUESTER, TEAM, domain_names, watched_zones
from tests.watch.test_poller import DUE_NOW, make_sender, posted

CHANNEL = "C0FLAKY"


@contextmanager
def stopped(process: subprocess.Popen[bytes] | None) -> Iterator[None]:
    """The process keeps its sockets but answers nothing until resumed."""
    assert process is not None and process.poll() is None
    process.send_signal(signal.SIGSTOP)
    try:
        yield
    finally:
        process.send_signal(signal.SIGCONT)


async def test_servers_that_stop_answering_for_a_poll_announce_nothing_new(
    bind_factory: BindFactory,
    sessionmaker: async_sessionmaker[AsyncSession],
    uow_factory: Callable[[], UnitOfWork],
    fake_slack: FakeSlack,
) -> None:
    domains = domain_names(2, "f")
    zones = watched_zones(domains)
    bind = bind_factory(views={"127.0.0.1": zones, "127.0.0.2": zones})
    status = await start_tenant(
        uow_factory(),
        Caller(team_id=TEAM, user_id=REQUESTER, channel_id=CHANNEL),
        ValidTenant(
            name="Flaky Ltd",
            domains=tuple(Domain(d, d) for d in domains),
            onprem_exchange=False,
            internal_dns_server=None,
            time_zone="UTC",
            approvers=APPROVERS,
            approvals_needed=1,
            partner_id=None,
        ),
    )
    options = WatchOptions("r1", poll_seconds=DUE_NOW, fast_poll_seconds=DUE_NOW)
    poller = Poller(sessionmaker, bind.dns_config(timeout=0.5), options)
    sender = make_sender(sessionmaker, fake_slack)

    async def poll_and_send() -> None:
        (result,) = await poller.run_once()
        assert result.stored and result.error is None
        await sender.run_once()

    async def announced() -> bool:
        # A loaded machine can let a query outlast its 0.5 s even from a server that answers:
        # that poll is flaky DNS too (nothing announced), and the next one announces.
        await poll_and_send()
        return posted(fake_slack, "DNS records are ready") == [CHANNEL]

    await eventually(announced, "a poll that every server answered in time")
    with stopped(bind.proxy):  # 127.0.0.2 silent: every answer from it unknown
        await poll_and_send()
    with stopped(bind.process):  # every server silent
        await poll_and_send()
    await poll_and_send()  # answering again, as before
    with stopped(bind.process):
        await poll_and_send()
    await poll_and_send()

    async with UnitOfWork(sessionmaker) as uow:
        rows = await uow.outbox.for_tenant(status.tenant.id)
        assert [r.kind for r in rows] == ["records-ready"]
    assert len(fake_slack.calls_to("chat.postMessage")) == 1
