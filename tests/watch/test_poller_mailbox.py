"""The mailbox probe inside the watch: progress in one message edited in place, then
data-ready once and the verify-data step done by the bot (fake Graph over TLS, real DB/BIND)."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.runbook import Status, StepId
from bot.mailbox.form import validate_graph_form
from bot.mailbox.graph import MailboxProbe
from bot.ops.secrets import SecretBox, generate_key
from bot.services.common import Caller
from bot.services.mailbox import save_graph_credentials
from bot.watch.poller import Poller, WatchOptions
from storage.uow import UnitOfWork
from tests.support.bind_fixtures import BindFactory
from tests.support.fake_graph import FakeGraph
from tests.support.fake_slack import FakeSlack
from tests.watch.tenants import (
    REQUESTER,
    TEAM,
    channel_for,
    domain_names,
    start_tenants,
    watched_zones,
)
from tests.watch.test_poller import DUE_NOW, make_sender

GUID = "0f0e0d0c-0b0a-0908-0706-050403020100"


async def test_progress_is_edited_in_place_then_data_ready_once(
    bind_factory: BindFactory,
    sessionmaker: async_sessionmaker[AsyncSession],
    uow_factory: Callable[[], UnitOfWork],
    fake_slack: FakeSlack,
    fake_graph: FakeGraph,
) -> None:
    (domain,) = domain_names(1, "m")
    zones = watched_zones([domain])
    bind = bind_factory(views={"127.0.0.1": zones, "127.0.0.2": zones})
    tenant = (await start_tenants(uow_factory, [domain]))[domain]
    box = SecretBox(generate_key())
    form = validate_graph_form(
        fake_graph.azure_tenant_id, "0f0e0d0c-0b0a-0908-0706-050403020100", "s3cret", "", ""
    )
    fake_graph.client_id = form.client_id
    fake_graph.client_secret = "s3cret"
    caller = Caller(TEAM, REQUESTER, channel_for(domain))
    await save_graph_credentials(uow_factory(), caller, tenant, form, box, is_admin=True)

    poller = Poller(
        sessionmaker,
        bind.dns_config(timeout=2.0),
        WatchOptions("r1", poll_seconds=DUE_NOW, fast_poll_seconds=DUE_NOW),
        probe=MailboxProbe(fake_graph.config),
        secrets=box,
    )
    sender = make_sender(sessionmaker, fake_slack)
    boxes = {"a@contoso.test": 0, "b@contoso.test": 0, "c@contoso.test": 0}

    async def tick(**counts: int) -> None:
        boxes.update({f"{k}@contoso.test": v for k, v in counts.items()})
        fake_graph.mailboxes = dict(boxes)
        await poller.run_once()
        await sender.run_once()

    await tick()  # nothing yet: no progress message
    await tick(a=12)
    await tick(b=3)
    await tick(b=4)  # the same count of mailboxes with mail: no edit
    await tick(c=1)
    await tick()  # ready already: nothing more

    progress = [c for c in fake_slack.calls_to("chat.postMessage") if "arriving" in c.text]
    assert len(progress) == 1 and "1 of 3 mailboxes have mail" in progress[0].text
    edits = [
        c for c in fake_slack.calls_to("chat.update") if c.params["ts"] == progress[0].answer["ts"]
    ]
    assert ["2 of 3" in e.text for e in edits] == [True, False]
    assert "3 of 3 mailboxes have mail." in edits[1].text
    ready = [c for c in fake_slack.calls_to("chat.postMessage") if "has arrived" in c.text]
    assert len(ready) == 1 and "3 of 3 mailboxes have mail." in ready[0].text

    async with uow_factory() as uow:
        step = await uow.steps.get(tenant, StepId.VERIFY_DATA)
        assert step is not None and step.status == Status.DONE and step.actor_id == "bot"
        assert step.evidence and "3 of 3" in step.evidence["summary"]
    assert fake_graph.count("/mailFolders/inbox") == 3 * 5  # the probe stops once verified


async def test_a_failing_check_is_announced_once_without_the_secret(
    bind_factory: BindFactory,
    sessionmaker: async_sessionmaker[AsyncSession],
    uow_factory: Callable[[], UnitOfWork],
    fake_slack: FakeSlack,
    fake_graph: FakeGraph,
) -> None:
    (domain,) = domain_names(1, "f")
    zones = watched_zones([domain])
    bind = bind_factory(views={"127.0.0.1": zones, "127.0.0.2": zones})
    tenant = (await start_tenants(uow_factory, [domain]))[domain]
    box = SecretBox(generate_key())
    form = validate_graph_form(fake_graph.azure_tenant_id, GUID, "wrong-secret-123", "", "")
    fake_graph.client_id = GUID
    caller = Caller(TEAM, REQUESTER, channel_for(domain))
    await save_graph_credentials(uow_factory(), caller, tenant, form, box, is_admin=True)
    poller = Poller(
        sessionmaker,
        bind.dns_config(timeout=2.0),
        WatchOptions("r1", poll_seconds=DUE_NOW, fast_poll_seconds=DUE_NOW),
        probe=MailboxProbe(fake_graph.config),
        secrets=box,
    )
    sender = make_sender(sessionmaker, fake_slack)
    for _ in range(3):
        await poller.run_once()
        await sender.run_once()
    failed = [c for c in fake_slack.calls_to("chat.postMessage") if "check is failing" in c.text]
    assert len(failed) == 1
    assert "invalid_client" in failed[0].text and GUID in failed[0].text
    assert all("wrong-secret-123" not in c.text for c in fake_slack.calls)
