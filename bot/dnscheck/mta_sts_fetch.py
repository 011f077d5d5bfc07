"""The MTA-STS policy fetch, thin I/O: one HTTPS GET as RFC 8461 §3.3 asks, nothing judged.

HTTPS only, the certificate verified for ``mta-sts.<domain>`` against the system CAs plus
``TRANSITION_CA_BUNDLE`` (:func:`bot.ops.tls.ssl_context`), no redirects, a time limit on the whole
fetch and a cap on the body. The host's address comes from the audit's own resolver, so a lab
or a test resolves it the way the rest of the audit does.
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import aiohttp
import dns.asyncresolver
import dns.exception
from aiohttp.abc import AbstractResolver, ResolveResult

from bot.dnscheck.model import DnsConfig
from bot.dnscheck.mta_sts import MAX_POLICY_BYTES, PolicyFetch, policy_host, policy_url
from bot.ops.tls import ssl_context


class _AuditResolver(AbstractResolver):
    """aiohttp's host lookup through the audit's resolver (A and AAAA, asked together)."""

    def __init__(self, resolver: dns.asyncresolver.Resolver) -> None:
        self._resolver = resolver

    async def _addresses(self, host: str, rdtype: str) -> list[str]:
        try:
            answer = await self._resolver.resolve(host, rdtype, search=False)
        except (dns.exception.DNSException, OSError):
            return []
        return [rdata.address for rdata in answer]

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        v4, v6 = await asyncio.gather(self._addresses(host, "A"), self._addresses(host, "AAAA"))
        found = [(a, socket.AF_INET) for a in v4] + [(a, socket.AF_INET6) for a in v6]
        if not found:
            raise OSError(f"{host} has no address")
        return [
            ResolveResult(
                hostname=host,
                host=address,
                port=port,
                family=fam,
                proto=0,
                flags=socket.AI_NUMERICHOST,
            )
            for address, fam in found
        ]

    async def close(self) -> None:
        return None


def _reason(exc: BaseException, host: str) -> str:
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        return f"the certificate of {host} is not trusted ({exc.certificate_error})"
    if isinstance(exc, aiohttp.ClientSSLError):
        return f"TLS with {host} failed ({type(exc).__name__})"
    if isinstance(exc, TimeoutError):
        return f"{host} did not answer in time"
    if isinstance(exc, aiohttp.ClientConnectorError):
        return f"could not connect to {host} ({exc.os_error.strerror or exc.os_error})"
    if isinstance(exc, OSError):
        return str(exc)
    return f"{host}: {type(exc).__name__}"


async def fetch_policy(
    domain: str, config: DnsConfig, resolver: dns.asyncresolver.Resolver
) -> PolicyFetch:
    """GET ``https://mta-sts.<domain>/.well-known/mta-sts.txt``; never raises for a fault."""
    url, host = policy_url(domain, config.https_port), policy_host(domain)
    connector = aiohttp.TCPConnector(
        ssl=ssl_context(config.ca_bundle), resolver=_AuditResolver(resolver), use_dns_cache=False
    )
    timeout = aiohttp.ClientTimeout(total=config.https_timeout)
    try:
        async with (
            aiohttp.ClientSession(connector=connector, timeout=timeout) as session,
            session.get(url, allow_redirects=False) as response,
        ):
            return await _read(url, response)
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        return PolicyFetch(url, error=_reason(exc, host))


async def _read(url: str, response: aiohttp.ClientResponse) -> PolicyFetch:
    if 300 <= response.status < 400:
        where = response.headers.get("Location", "elsewhere")
        return PolicyFetch(
            url, error=f"redirects to {where}; RFC 8461 forbids redirects, senders ignore it"
        )
    if response.status != 200:
        return PolicyFetch(url, error=f"HTTP {response.status} {response.reason or ''}".strip())
    body = await response.content.read(MAX_POLICY_BYTES + 1)
    if len(body) > MAX_POLICY_BYTES:
        return PolicyFetch(url, error=f"the policy is larger than {MAX_POLICY_BYTES // 1024} KB")
    media: Any = response.content_type
    if media != "text/plain":
        return PolicyFetch(url, error=f"served as {media}, not text/plain (RFC 8461 §3.2)")
    return PolicyFetch(url, text=body.decode("utf-8", "replace"))
