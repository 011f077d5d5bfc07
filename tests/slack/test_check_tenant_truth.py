"""``/transition check`` in a tenant's channel uses the tenant's own records from Graph (fake
Graph over TLS), says where each expected value came from, and Re-check reads Graph again."""

from __future__ import annotations

import dataclasses

from bot.blocks.ids import ActionId
from bot.jobs.background import SCHEDULER
from bot.mailbox.form import validate_graph_form
from bot.ops.config import Settings
from bot.ops.secrets import SecretBox, generate_key
from bot.services.common import Caller
from bot.services.mailbox import save_graph_credentials
from tests.dnscheck.test_tenant_graph import DOMAIN, graph_domain
from tests.slack.test_check_command import COMMAND, recheck_button
from tests.support.bind import BindServer
from tests.support.fake_graph import FakeGraph
from tests.support.fake_slack import FakeSlack
from tests.support.slack_fixtures import StartServer
from tests.support.slack_requests import SlackClient
from tests.watch.tenants import REQUESTER, start_tenants


async def tenant_with_graph(
    bot_server: StartServer, bot_settings: Settings, fake_graph: FakeGraph
) -> SlackClient:
    """A bot whose Graph is the fake, and a tenant for DOMAIN in the client's channel with its
    app registration saved."""
    key = generate_key()
    settings = dataclasses.replace(
        bot_settings,
        graph_url=fake_graph.url,
        login_url=fake_graph.url,
        ca_bundle=str(fake_graph.ca_path),
        secret_key=key,
    )
    server = await bot_server(settings)
    # The watch polls a new tenant, Graph's values included: paused, the tests count the
    # check's own Graph requests.
    await server.app[SCHEDULER].pause_and_drain()
    slack = server.slack
    uow = server.runtime.db.uow
    tenant = (await start_tenants(uow, [DOMAIN], channel=slack.channel_id, team=slack.team_id))[
        DOMAIN
    ]
    form = validate_graph_form(
        fake_graph.azure_tenant_id, "0f0e0d0c-0b0a-0908-0706-050403020100", "s3cret", "", ""
    )
    fake_graph.client_id, fake_graph.client_secret = form.client_id, "s3cret"
    caller = Caller(slack.team_id, REQUESTER, slack.channel_id)
    await save_graph_credentials(uow(), caller, tenant, form, SecretBox(key), is_admin=True)
    return slack


async def test_check_in_the_tenants_channel_shows_the_tenants_values(
    bot_server: StartServer,
    bot_settings: Settings,
    bind: BindServer,
    fake_slack: FakeSlack,
    fake_graph: FakeGraph,
) -> None:
    slack = await tenant_with_graph(bot_server, bot_settings, fake_graph)
    fake_graph.domains = {DOMAIN: graph_domain(mx="tokenmx-test.o-v1.mx.microsoft")}

    await slack.command(COMMAND, f"check {DOMAIN}")
    post = await fake_slack.wait_for("chat.postMessage")
    assert "Expected values from your Microsoft 365 tenant: mx, autodiscover" in post.text
    assert "points to another Microsoft 365 MX than this tenant" in post.text
    assert "`0 tokenmx-test.o-v1.mx.microsoft` _(from your Microsoft 365 tenant)_" in post.text
    assert fake_graph.count("/serviceConfigurationRecords") == 1

    # The tenant's admin center now shows the host the zone has: Re-check asks Graph again.
    fake_graph.domains = {DOMAIN: graph_domain()}
    await slack.block_action(
        ActionId.RECHECK, recheck_button(post)["value"], message={"ts": post.answer["ts"]}
    )
    update = await fake_slack.wait_for("chat.update")
    assert ":white_check_mark: *mx*" in update.text
    assert fake_graph.count("/serviceConfigurationRecords") == 2


async def test_missing_permission_is_one_line_in_the_report(
    bot_server: StartServer,
    bot_settings: Settings,
    bind: BindServer,
    fake_slack: FakeSlack,
    fake_graph: FakeGraph,
) -> None:
    slack = await tenant_with_graph(bot_server, bot_settings, fake_graph)
    fake_graph.domains_forbidden = True

    await slack.command(COMMAND, f"check {DOMAIN}")
    post = await fake_slack.wait_for("chat.postMessage")
    notes = [b for b in post.blocks if b["type"] == "context" and "Domain.Read.All" in str(b)]
    assert len(notes) == 1
    assert ":white_check_mark: *mx*" in post.text  # the audit went on with the defaults
    assert "from your Microsoft 365 tenant" not in post.text
