"""The probe's I/O: an app-only token from msal, then Microsoft Graph over aiohttp.

msal is synchronous, so token calls run in a worker thread. Both msal and aiohttp trust the
system CAs plus ``TRANSITION_CA_BUNDLE`` (a test CA); verification is never turned off.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import quote

import aiohttp
import msal
import requests
from requests.adapters import HTTPAdapter

from bot.dnscheck.tenant import TenantTruth, from_graph
from bot.mailbox.report import MailboxCount
from bot.ops.tls import ssl_context

GRAPH_SCOPE = "https://graph.microsoft.com/.default"
MAX_RETRIES = 4
MAX_RETRY_AFTER = 60.0
CONCURRENCY = 8


class GraphError(Exception):
    """The probe could not run; the message is for an admin (no secrets in it)."""


@dataclass(frozen=True)
class GraphCredentials:
    azure_tenant_id: str
    client_id: str
    client_secret: str = field(repr=False)


@dataclass(frozen=True)
class GraphConfig:
    graph_url: str = "https://graph.microsoft.com"
    login_url: str = "https://login.microsoftonline.com"
    ca_bundle: str | None = None
    timeout: float = 20.0
    # Graph's scope names the real Graph resource even when a test points graph_url elsewhere.
    scope: str = GRAPH_SCOPE


class _ContextAdapter(HTTPAdapter):
    """A requests adapter that verifies with our SSL context (system CAs + the extra bundle)."""

    def __init__(self, context: ssl.SSLContext) -> None:
        self._context = context
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["ssl_context"] = self._context
        super().init_poolmanager(*args, **kwargs)


class _TimeoutSession(requests.Session):
    """A requests session with a timeout on every call: msal applies its own ``timeout`` only
    to the session it makes itself, never to an ``http_client`` passed in (like this one)."""

    def __init__(self, timeout: float) -> None:
        super().__init__()
        self.timeout = timeout

    def request(self, *args: Any, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", self.timeout)
        return super().request(*args, **kwargs)


def _msal_http_client(config: GraphConfig) -> requests.Session:
    session = _TimeoutSession(min(config.timeout, MSAL_TIMEOUT))
    session.mount("https://", _ContextAdapter(ssl_context(config.ca_bundle)))
    return session


# msal is synchronous: its HTTP runs in a worker thread (``asyncio.to_thread``), which cannot be
# cancelled, and Python waits for such threads at exit. A hung login endpoint during SIGTERM
# would so hold the exit for as long as msal's timeout; at most 5 s keeps the 10 s stop budget.
MSAL_TIMEOUT = 5.0


class TokenSource:
    """One msal confidential client per credential set, so msal's token cache is reused."""

    def __init__(self, config: GraphConfig) -> None:
        self._config = config
        self._apps: dict[tuple[str, str, str], msal.ConfidentialClientApplication] = {}

    def _app(self, creds: GraphCredentials) -> msal.ConfidentialClientApplication:
        key = (creds.azure_tenant_id, creds.client_id, creds.client_secret)
        app = self._apps.get(key)
        if app is None:
            authority = f"{self._config.login_url}/{quote(creds.azure_tenant_id, safe='')}"
            try:
                app = msal.ConfidentialClientApplication(
                    creds.client_id,
                    client_credential=creds.client_secret,
                    authority=authority,
                    http_client=_msal_http_client(self._config),
                    # A custom login URL (a sovereign cloud, a test) is not on Microsoft's list.
                    instance_discovery=False,
                    # not applied by msal to our http_client: _TimeoutSession carries it
                    timeout=min(self._config.timeout, MSAL_TIMEOUT),
                )
            except ValueError as exc:
                raise GraphError(
                    f"the Azure tenant id {creds.azure_tenant_id!r} was not accepted by "
                    f"{self._config.login_url}: check the tenant id ({_first_line(exc)})"
                ) from None
            except requests.RequestException as exc:
                raise GraphError(
                    f"could not reach {self._config.login_url}: {type(exc).__name__}"
                ) from None
            self._apps[key] = app
        return app

    def _acquire(self, creds: GraphCredentials) -> str:
        app = self._app(creds)
        try:
            result = app.acquire_token_for_client(scopes=[self._config.scope])
        except requests.RequestException as exc:
            raise GraphError(
                f"could not reach {self._config.login_url}: {type(exc).__name__}"
            ) from None
        token = result.get("access_token") if isinstance(result, dict) else None
        if not token:
            error = result.get("error", "unknown_error") if isinstance(result, dict) else "?"
            raise GraphError(
                f"sign-in for client {creds.client_id} was refused ({error}): check the client "
                "id and secret, and that the app has the Mail.ReadBasic.All / User.Read.All "
                "application permissions with admin consent"
            )
        return str(token)

    async def token(self, creds: GraphCredentials) -> str:
        return await asyncio.to_thread(self._acquire, creds)


def _first_line(exc: BaseException) -> str:
    return str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__


class GraphClient:
    """The few Graph calls the probe makes, with Retry-After on 429/503."""

    def __init__(self, session: aiohttp.ClientSession, config: GraphConfig, token: str) -> None:
        self._session = session
        self._config = config
        self._headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}

    async def get(self, url: str) -> tuple[int, dict[str, Any]]:
        if not url.startswith("http"):
            url = self._config.graph_url + url
        for attempt in range(MAX_RETRIES + 1):
            async with self._session.get(url, headers=self._headers) as resp:
                if resp.status in (429, 503, 504) and attempt < MAX_RETRIES:
                    await asyncio.sleep(_retry_after(resp.headers.get("Retry-After"), attempt))
                    continue
                body = await resp.json(content_type=None) if resp.content_length != 0 else {}
                return resp.status, body if isinstance(body, dict) else {}
        raise AssertionError("unreachable")

    async def list_mailbox_users(self) -> list[str]:
        """userPrincipalName of every enabled user with a mail address, following paging."""
        url: str | None = "/v1.0/users?$select=userPrincipalName,mail,accountEnabled&$top=999"
        found: list[str] = []
        while url:
            status, body = await self.get(url)
            if status != 200:
                raise GraphError(f"listing users failed: HTTP {status} {_graph_error(body)}")
            for user in body.get("value", []):
                if user.get("mail") and user.get("accountEnabled", True):
                    found.append(str(user.get("userPrincipalName") or user["mail"]))
            url = body.get("@odata.nextLink")
        return found

    async def inbox_count(self, address: str) -> MailboxCount:
        status, body = await self.get(f"/v1.0/users/{quote(address, safe='@')}/mailFolders/inbox")
        if status == 200 and isinstance(body.get("totalItemCount"), int):
            return MailboxCount(address, int(body["totalItemCount"]))
        if status == 404:
            return MailboxCount(address, None, "no mailbox")
        if status in (401, 403):
            raise GraphError(
                f"Graph refused to read mailboxes (HTTP {status}): grant the app the "
                "Mail.ReadBasic.All application permission with admin consent"
            )
        return MailboxCount(address, None, f"HTTP {status} {_graph_error(body)}".strip())


PERMISSION_NOTE = (
    "Microsoft Graph refused to read the records of {domain} (HTTP {status}): grant the app "
    "registration the Domain.Read.All application permission with admin consent. "
    "Expected values are Microsoft's published defaults."
)
NOT_FOUND_NOTE = (
    "{domain} is not a domain of your Microsoft 365 tenant (Graph: not found): add it in the "
    "admin center (Settings › Domains). Expected values are Microsoft's published defaults."
)
UNVERIFIED_NOTE = (
    "{domain} is not verified in your Microsoft 365 tenant yet: add its MS=ms… TXT and verify "
    "it in the admin center. Other expected values are Microsoft's published defaults."
)


async def _list(client: GraphClient, url: str) -> tuple[int, list[dict[str, Any]]]:
    """Every item of a Graph collection, following ``@odata.nextLink``."""
    items: list[dict[str, Any]] = []
    next_url: str | None = url
    while next_url:
        status, body = await client.get(next_url)
        if status != 200:
            return status, items
        items += [i for i in body.get("value", []) if isinstance(i, dict)]
        next_url = body.get("@odata.nextLink")
    return 200, items


async def read_domain_truth(client: GraphClient, domain: str) -> TenantTruth:
    """``isVerified``, ``verificationDnsRecords`` and ``serviceConfigurationRecords`` of one
    domain as data; a refusal (no permission, unknown or unverified domain) as a one-line note.
    https://learn.microsoft.com/en-us/graph/api/domain-get
    https://learn.microsoft.com/en-us/graph/api/domain-list-serviceconfigurationrecords
    https://learn.microsoft.com/en-us/graph/api/domain-list-verificationdnsrecords
    """
    base = f"/v1.0/domains/{quote(domain, safe='')}"
    status, body = await client.get(base)
    if status in (401, 403):
        return TenantTruth(domain, note=PERMISSION_NOTE.format(domain=domain, status=status))
    if status == 404:
        return TenantTruth(domain, note=NOT_FOUND_NOTE.format(domain=domain))
    if status != 200:
        raise GraphError(f"reading {domain} from Graph failed: HTTP {status} {_graph_error(body)}")
    verified = body.get("isVerified")
    verified = verified if isinstance(verified, bool) else None
    _, verification = await _list(client, f"{base}/verificationDnsRecords")
    if verified is False:
        truth = from_graph(domain, [], verification, False)
        return replace(truth, note=UNVERIFIED_NOTE.format(domain=domain))
    status, records = await _list(client, f"{base}/serviceConfigurationRecords")
    if status in (401, 403):
        return TenantTruth(domain, note=PERMISSION_NOTE.format(domain=domain, status=status))
    if status != 200:
        raise GraphError(f"reading the records of {domain} from Graph failed: HTTP {status}")
    return from_graph(domain, records, verification, verified)


class DomainReader:
    """Reads a tenant's DNS truth for its domains with the mailbox probe's app registration."""

    def __init__(self, config: GraphConfig) -> None:
        self.config = config
        self._tokens = TokenSource(config)

    async def truths(self, creds: GraphCredentials, domains: Sequence[str]) -> list[TenantTruth]:
        """One truth per domain, in order. Raises :class:`GraphError` when Graph cannot be
        asked at all (sign-in refused, unreachable)."""
        token = await self._tokens.token(creds)
        timeout = aiohttp.ClientTimeout(total=None, sock_read=self.config.timeout)
        connector = aiohttp.TCPConnector(ssl=ssl_context(self.config.ca_bundle))
        try:
            async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
                client = GraphClient(session, self.config, token)
                return list(await asyncio.gather(*(read_domain_truth(client, d) for d in domains)))
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise GraphError(
                f"could not reach Microsoft Graph at {self.config.graph_url}: {type(exc).__name__}"
            ) from None


def _graph_error(body: dict[str, Any]) -> str:
    error = body.get("error")
    if isinstance(error, dict):
        return str(error.get("code", ""))
    return ""


def _retry_after(header: str | None, attempt: int) -> float:
    try:
        wait = float(header) if header is not None else 2.0**attempt
    except ValueError:
        wait = 2.0**attempt
    return max(0.0, min(wait, MAX_RETRY_AFTER))


class MailboxProbe:
    """Reads each listed mailbox's inbox item count for one tenant's credentials."""

    def __init__(self, config: GraphConfig) -> None:
        self.config = config
        self._tokens = TokenSource(config)

    async def counts(
        self, creds: GraphCredentials, addresses: Sequence[str] = ()
    ) -> list[MailboxCount]:
        token = await self._tokens.token(creds)
        timeout = aiohttp.ClientTimeout(total=None, sock_read=self.config.timeout)
        connector = aiohttp.TCPConnector(ssl=ssl_context(self.config.ca_bundle))
        try:
            async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
                client = GraphClient(session, self.config, token)
                targets = list(addresses) or await client.list_mailbox_users()
                limit = asyncio.Semaphore(CONCURRENCY)

                async def one(address: str) -> MailboxCount:
                    async with limit:
                        return await client.inbox_count(address)

                counts = await asyncio.gather(*(one(a) for a in targets))
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise GraphError(
                f"could not reach Microsoft Graph at {self.config.graph_url}: {type(exc).__name__}"
            ) from None
        if not addresses:
            # Listed users without a mailbox (no licence yet) are not mailboxes to wait for.
            counts = [c for c in counts if c.note != "no mailbox"]
        return counts
