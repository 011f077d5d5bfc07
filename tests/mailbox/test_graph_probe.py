"""The mailbox probe against a local TLS fake of Microsoft login + Graph (trusted via a test CA)."""

from __future__ import annotations

import dataclasses
import logging

import pytest

from bot.mailbox.graph import GraphConfig, GraphError, MailboxProbe
from bot.mailbox.report import MailboxCount, evaluate
from tests.support.fake_graph import FakeGraph


async def test_lists_users_and_counts_inboxes(fake_graph: FakeGraph) -> None:
    fake_graph.mailboxes = {"a@contoso.com": 3, "b@contoso.com": 0, "room@contoso.com": None}
    fake_graph.page_size = 2  # forces a second page via @odata.nextLink
    counts = await MailboxProbe(fake_graph.config).counts(fake_graph.credentials)
    assert sorted(counts, key=lambda c: c.address) == [
        MailboxCount("a@contoso.com", 3),
        MailboxCount("b@contoso.com", 0),
    ]
    assert fake_graph.count("/.well-known/openid-configuration") == 1
    assert fake_graph.count("$skiptoken=2") == 1
    assert evaluate(counts).text() == "1 of 2 mailboxes have mail; still empty: b@contoso.com"


async def test_configured_addresses_only(fake_graph: FakeGraph) -> None:
    fake_graph.mailboxes = {"a@contoso.com": 3, "b@contoso.com": 7}
    counts = await MailboxProbe(fake_graph.config).counts(
        fake_graph.credentials, ["b@contoso.com", "ghost@contoso.com"]
    )
    assert counts == [
        MailboxCount("b@contoso.com", 7),
        MailboxCount("ghost@contoso.com", None, "no mailbox"),
    ]
    assert fake_graph.count("/v1.0/users?") == 0


async def test_honours_429_retry_after(fake_graph: FakeGraph) -> None:
    fake_graph.mailboxes = {"a@contoso.com": 1}
    fake_graph.script_429("/mailFolders/inbox", times=2, retry_after="0")
    counts = await MailboxProbe(fake_graph.config).counts(fake_graph.credentials)
    assert counts == [MailboxCount("a@contoso.com", 1)]
    assert fake_graph.count("/mailFolders/inbox") == 3


async def test_token_is_reused_between_probes(fake_graph: FakeGraph) -> None:
    fake_graph.mailboxes = {"a@contoso.com": 1}
    probe = MailboxProbe(fake_graph.config)
    await probe.counts(fake_graph.credentials)
    await probe.counts(fake_graph.credentials)
    assert fake_graph.tokens_issued == 1


async def test_wrong_secret_is_a_clear_error_without_the_secret(
    fake_graph: FakeGraph, caplog: pytest.LogCaptureFixture
) -> None:
    creds = dataclasses.replace(fake_graph.credentials, client_secret="wrong-secret-value")
    with caplog.at_level(logging.DEBUG), pytest.raises(GraphError) as info:
        await MailboxProbe(fake_graph.config).counts(creds)
    assert "invalid_client" in str(info.value) and "client-app-id" in str(info.value)
    assert "wrong-secret-value" not in str(info.value)
    assert "wrong-secret-value" not in repr(creds)


async def test_unknown_tenant_is_a_clear_error(fake_graph: FakeGraph) -> None:
    creds = dataclasses.replace(fake_graph.credentials, azure_tenant_id="not-my-tenant")
    with pytest.raises(GraphError, match="tenant id 'not-my-tenant' was not accepted"):
        await MailboxProbe(fake_graph.config).counts(creds)


async def test_untrusted_certificate_is_refused(fake_graph: FakeGraph) -> None:
    """Without the test CA the fake's certificate must fail verification (never turned off)."""
    config = GraphConfig(graph_url=fake_graph.url, login_url=fake_graph.url, ca_bundle=None)
    with pytest.raises(GraphError, match="could not reach"):
        await MailboxProbe(config).counts(fake_graph.credentials)
    assert fake_graph.requests == []


async def test_a_hung_login_endpoint_is_given_up_within_msals_short_timeout(
    fake_graph: FakeGraph,
) -> None:
    """msal's calls run in a thread the process must wait for at exit, so they time out after
    5 s, not after the 20 s the Graph calls may take: a login answering after 7 s is too late."""
    fake_graph.mailboxes = {"a@contoso.com": 1}
    fake_graph.token_delay = 7.0
    with pytest.raises(GraphError) as info:
        await MailboxProbe(fake_graph.config).counts(fake_graph.credentials)
    assert "could not reach" in info.value.args[0]
    assert fake_graph.tokens_issued == 0
