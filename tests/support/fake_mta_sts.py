"""A local MTA-STS policy host (RFC 8461 §3.3): ``https://mta-sts.<domain>/.well-known/mta-sts.txt``
for several test domains at once, over TLS with a certificate from a throwaway CA (trustme).

The zones in tests/zones point ``mta-sts.<domain>`` at 127.0.0.1; the server tells the domains
apart by the Host header. The certificate names every policy host except
``mta-sts.badcert.test``, so that one fails verification as a wrong certificate would.
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest
import trustme
from aiohttp import web

from bot.dnscheck.model import DnsConfig
from bot.dnscheck.mta_sts import MAX_POLICY_BYTES, POLICY_PATH


def policy(mode: str, *mx: str, max_age: int = 86400) -> str:
    lines = ["version: STSv1", f"mode: {mode}", *(f"mx: {m}" for m in mx), f"max_age: {max_age}"]
    return "\r\n".join(lines) + "\r\n"


@dataclass(frozen=True)
class Served:
    body: str = ""
    status: int = 200
    content_type: str = "text/plain"
    location: str = ""  # for a redirect


STS_OK = "stsok.test"
STS_POLICIES: dict[str, Served] = {
    # the old host only, enforced: Microsoft 365's MX would be refused
    "enforce.test": Served(policy("enforce", "mail.enforce.test")),
    "testing.test": Served(policy("testing", "mail.testing.test")),
    "alias.test": Served(policy("enforce", "mail.alias.test")),  # its _mta-sts is a CNAME
    # the old host and Microsoft 365's, enforced: ready for the move
    STS_OK: Served(policy("enforce", "mail.stsok.test", "*.mail.protection.outlook.com")),
    "redirect.test": Served(
        status=301, location=f"https://mta-sts.{STS_OK}{POLICY_PATH}", content_type=""
    ),
    "oversized.test": Served(
        policy("enforce", "*.mail.protection.outlook.com") + "#" * MAX_POLICY_BYTES
    ),
    "badcert.test": Served(policy("enforce", "mail.badcert.test")),
}
UNCERTIFIED = ("badcert.test",)


@dataclass
class FakeMtaSts:
    ca_path: Path
    port: int = 0
    policies: dict[str, Served] = field(default_factory=lambda: dict(STS_POLICIES))
    requests: list[str] = field(default_factory=list)  # Host header of each request

    def config(self, dns: DnsConfig) -> DnsConfig:
        """``dns`` with the policy fetch pointed here and this CA trusted."""
        return replace(dns, https_port=self.port, ca_bundle=str(self.ca_path))

    async def _policy(self, request: web.Request) -> web.StreamResponse:
        host = request.host.rsplit(":", 1)[0].lower()
        self.requests.append(host)
        served = self.policies.get(host.removeprefix("mta-sts."))
        if served is None:
            raise web.HTTPNotFound()
        headers = {"Location": served.location} if served.location else {}
        return web.Response(
            status=served.status,
            body=served.body.encode(),
            content_type=served.content_type or None,
            headers=headers,
        )

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get(POLICY_PATH, self._policy)
        return app


@pytest.fixture
async def fake_mta_sts(tmp_path: Path) -> AsyncIterator[FakeMtaSts]:
    ca = trustme.CA()
    ca_path = tmp_path / "mta-sts-ca.pem"
    ca.cert_pem.write_to_path(str(ca_path))
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    names = [f"mta-sts.{d}" for d in STS_POLICIES if d not in UNCERTIFIED]
    ca.issue_cert(*names).configure_cert(server_context)
    fake = FakeMtaSts(ca_path=ca_path)
    runner = web.AppRunner(fake.app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=server_context)
    await site.start()
    fake.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield fake
    finally:
        await runner.cleanup()
