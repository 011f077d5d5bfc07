"""A local fake of Microsoft's login (msal's discovery + token endpoint) and the Graph calls the
mailbox probe makes, served over TLS with a certificate from a throwaway test CA (trustme).

One instance per test: bound to 127.0.0.1 port 0, state on the instance, answers scripted per test.
"""

from __future__ import annotations

import asyncio
import secrets
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import trustme
from aiohttp import web
from aiohttp.typedefs import Handler

from bot.mailbox.graph import GraphConfig, GraphCredentials


@dataclass
class Scripted429:
    path_contains: str
    times: int
    retry_after: str = "0"


@dataclass
class FakeGraph:
    ca_path: Path
    azure_tenant_id: str = "11111111-2222-3333-4444-555555555555"
    client_id: str = "client-app-id"
    client_secret: str = field(default_factory=lambda: secrets.token_urlsafe(16))
    mailboxes: dict[str, int | None] = field(default_factory=dict)  # None: user without mailbox
    page_size: int = 100
    url: str = ""
    requests: list[tuple[str, str]] = field(default_factory=list)  # (method, path_qs)
    tokens_issued: int = 0
    token_delay: float = 0.0  # seconds the token endpoint takes to answer (a hung login)
    # domain -> {"isVerified": bool, "service": [domainDnsRecord...], "verification": [...]}
    domains: dict[str, dict[str, Any]] = field(default_factory=dict)
    domains_forbidden: bool = False  # the app lacks Domain.Read.All: every domain call is 403
    _tokens: set[str] = field(default_factory=set)
    _scripted: list[Scripted429] = field(default_factory=list)

    @property
    def credentials(self) -> GraphCredentials:
        return GraphCredentials(self.azure_tenant_id, self.client_id, self.client_secret)

    @property
    def config(self) -> GraphConfig:
        return GraphConfig(graph_url=self.url, login_url=self.url, ca_bundle=str(self.ca_path))

    def script_429(self, path_contains: str, times: int = 1, retry_after: str = "0") -> None:
        """Answer the next ``times`` requests whose path contains the text with 429."""
        self._scripted.append(Scripted429(path_contains, times, retry_after))

    def count(self, path_contains: str) -> int:
        return sum(1 for _, p in self.requests if path_contains in p)

    # --- handlers -------------------------------------------------------------------------

    @web.middleware
    async def _record(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        self.requests.append((request.method, request.path_qs))
        for script in self._scripted:
            if script.times > 0 and script.path_contains in request.path_qs:
                script.times -= 1
                return web.json_response(
                    {"error": {"code": "TooManyRequests"}},
                    status=429,
                    headers={"Retry-After": script.retry_after},
                )
        return await handler(request)

    async def _openid(self, request: web.Request) -> web.Response:
        tenant = request.match_info["tenant"]
        if tenant != self.azure_tenant_id:
            return web.json_response({"error": "invalid_tenant"}, status=400)
        base = f"{self.url}/{tenant}"
        return web.json_response(
            {
                "issuer": f"{base}/v2.0",
                "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                "token_endpoint": f"{base}/oauth2/v2.0/token",
            }
        )

    async def _token(self, request: web.Request) -> web.Response:
        if self.token_delay:
            await asyncio.sleep(self.token_delay)
        form = await request.post()
        ok = (
            request.match_info["tenant"] == self.azure_tenant_id
            and form.get("grant_type") == "client_credentials"
            and form.get("client_id") == self.client_id
            and form.get("client_secret") == self.client_secret
        )
        if not ok:
            return web.json_response(
                {"error": "invalid_client", "error_description": "bad client credentials"},
                status=401,
            )
        token = secrets.token_urlsafe(24)
        self._tokens.add(token)
        self.tokens_issued += 1
        return web.json_response(
            {"access_token": token, "token_type": "Bearer", "expires_in": 3600}
        )

    def _authorized(self, request: web.Request) -> bool:
        auth = request.headers.get("Authorization", "")
        return auth.startswith("Bearer ") and auth[len("Bearer ") :] in self._tokens

    async def _users(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return web.json_response({"error": {"code": "InvalidAuthenticationToken"}}, status=401)
        start = int(request.query.get("$skiptoken", "0"))
        names = sorted(self.mailboxes)
        page = names[start : start + self.page_size]
        body: dict[str, object] = {
            "value": [{"userPrincipalName": n, "mail": n, "accountEnabled": True} for n in page]
        }
        if start + self.page_size < len(names):
            body["@odata.nextLink"] = f"{self.url}/v1.0/users?$skiptoken={start + self.page_size}"
        return web.json_response(body)

    async def _inbox(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return web.json_response({"error": {"code": "InvalidAuthenticationToken"}}, status=401)
        user = request.match_info["user"]
        if self.mailboxes.get(user, None) is None:
            return web.json_response({"error": {"code": "MailboxNotEnabledForRESTAPI"}}, status=404)
        return web.json_response({"displayName": "Inbox", "totalItemCount": self.mailboxes[user]})

    def _domain(self, request: web.Request) -> dict[str, Any] | web.Response:
        if not self._authorized(request):
            return web.json_response({"error": {"code": "InvalidAuthenticationToken"}}, status=401)
        if self.domains_forbidden:
            return web.json_response({"error": {"code": "Authorization_RequestDenied"}}, status=403)
        found = self.domains.get(request.match_info["domain"])
        if found is None:
            return web.json_response({"error": {"code": "Request_ResourceNotFound"}}, status=404)
        return found

    async def _domain_get(self, request: web.Request) -> web.Response:
        found = self._domain(request)
        if isinstance(found, web.Response):
            return found
        name = request.match_info["domain"]
        return web.json_response({"id": name, "isVerified": bool(found.get("isVerified"))})

    async def _domain_records(self, request: web.Request) -> web.Response:
        found = self._domain(request)
        if isinstance(found, web.Response):
            return found
        key = "service" if request.path.endswith("serviceConfigurationRecords") else "verification"
        return web.json_response({"value": found.get(key, [])})

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._record])
        app.router.add_get("/{tenant}/v2.0/.well-known/openid-configuration", self._openid)
        app.router.add_post("/{tenant}/oauth2/v2.0/token", self._token)
        app.router.add_get("/v1.0/users", self._users)
        app.router.add_get("/v1.0/users/{user}/mailFolders/inbox", self._inbox)
        app.router.add_get("/v1.0/domains/{domain}", self._domain_get)
        app.router.add_get(
            "/v1.0/domains/{domain}/serviceConfigurationRecords", self._domain_records
        )
        app.router.add_get("/v1.0/domains/{domain}/verificationDnsRecords", self._domain_records)
        return app


@pytest.fixture
async def fake_graph(tmp_path: Path) -> AsyncIterator[FakeGraph]:
    ca = trustme.CA()
    ca_path = tmp_path / "graph-ca.pem"
    ca.cert_pem.write_to_path(str(ca_path))
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(server_context)
    fake = FakeGraph(ca_path=ca_path)
    runner = web.AppRunner(fake.app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=server_context)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    fake.url = f"https://127.0.0.1:{port}"
    try:
        yield fake
    finally:
        await runner.cleanup()
