"""The tenant's own DNS truth for its audits: the cached Graph answer while it is less than a
day old, else a fresh read with the mailbox probe's app registration (also on Re-check).

A tenant without an app registration gets nothing (Microsoft's defaults, no note). When Graph
cannot be asked, the last cached answer is kept with a note saying so; a refusal from Graph
(no Domain.Read.All, unknown or unverified domain) is cached like an answer, so a tenant is
not asked again every poll, and its note is the report's one line.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy.exc import SQLAlchemyError

from bot.core.clock import now_or_utcnow
from bot.dnscheck.audit import audit_domain
from bot.dnscheck.model import Audit, DnsConfig
from bot.dnscheck.sources import Source, by_name
from bot.dnscheck.tenant import TenantTruth
from bot.mailbox.graph import GraphCredentials, GraphError
from bot.ops.logs import register_secret
from bot.ops.secrets import SecretBox, SecretDecryptionError
from bot.services.common import Caller, Refusal, tenant_here
from storage.uow import UnitOfWork

log = logging.getLogger(__name__)

MAX_AGE = timedelta(days=1)
Cached = Mapping[str, tuple[datetime, dict[str, Any]]]  # domain -> (fetched_at, TenantTruth JSON)


class DomainTruthReader(Protocol):
    async def truths(self, creds: GraphCredentials, domains: Sequence[str]) -> list[TenantTruth]:
        """One truth per domain; raises GraphError when Graph cannot be asked at all."""
        ...


def fresh(cached: Cached, domains: Sequence[str], now: datetime) -> dict[str, TenantTruth] | None:
    """The cached truths when every domain has one younger than a day; else None."""
    found: dict[str, TenantTruth] = {}
    for domain in domains:
        entry = cached.get(domain)
        if entry is None or now - entry[0] >= MAX_AGE:
            return None
        found[domain] = TenantTruth.from_json(entry[1])
    return found


def _kept(cached: Cached, domains: Sequence[str], why: str) -> dict[str, TenantTruth]:
    """The last answers (or none) with a note saying why they were not refreshed."""
    kept: dict[str, TenantTruth] = {}
    for domain in domains:
        entry = cached.get(domain)
        truth = TenantTruth.from_json(entry[1]) if entry is not None else TenantTruth(domain)
        if entry is not None and truth.records:
            note = f"{why} Using your tenant's values read {entry[0]:%Y-%m-%d %H:%M} UTC."
        else:
            note = f"{why} Expected values are Microsoft's published defaults."
        kept[domain] = replace(truth, note=note)
    return kept


@dataclass(frozen=True)
class StoredApp:
    """The tenant's app registration as stored: its secret still sealed."""

    azure_tenant_id: str
    client_id: str
    secret_encrypted: str = field(repr=False)


async def truths_for_tenant(
    uow_factory: Callable[[], UnitOfWork],
    tenant_id: int,
    domains: Sequence[str],
    reader: DomainTruthReader | None,
    box: SecretBox | None,
    *,
    refresh: bool = False,
    now: datetime | None = None,
) -> dict[str, TenantTruth]:
    """domain -> the tenant's truth for it ({} when the tenant has no app registration)."""
    async with uow_factory() as uow:
        cached = await uow.truth.for_tenant(tenant_id)
        row = await uow.credentials.get(tenant_id)
        # read inside the session: leaving it expires the row
        app = (
            None
            if row is None
            else StoredApp(row.azure_tenant_id, row.client_id, row.secret_encrypted)
        )
    return await resolve_truths(
        uow_factory, tenant_id, domains, cached, app, reader, box, refresh=refresh, now=now
    )


async def resolve_truths(
    uow_factory: Callable[[], UnitOfWork],
    tenant_id: int,
    domains: Sequence[str],
    cached: Cached,
    app: StoredApp | None,
    reader: DomainTruthReader | None,
    box: SecretBox | None,
    *,
    refresh: bool = False,
    now: datetime | None = None,
) -> dict[str, TenantTruth]:
    """From what storage holds (the watch loads it for many tenants at once): the cache while
    it is fresh, else Graph, whose answer is stored."""
    at = now_or_utcnow(now)
    if app is None or reader is None or not domains:
        return {}
    if not refresh and (found := fresh(cached, domains, at)) is not None:
        return found
    if box is None:
        return _kept(cached, domains, "TRANSITION_SECRET_KEY is not set: Graph is not asked.")
    try:
        secret = box.decrypt(app.secret_encrypted)
    except SecretDecryptionError as exc:
        return _kept(cached, domains, f"{str(exc)[:1].upper()}{str(exc)[1:]}.")
    register_secret(secret)
    creds = GraphCredentials(app.azure_tenant_id, app.client_id, secret)
    try:
        truths = await reader.truths(creds, domains)
    except GraphError as exc:
        log.warning("tenant %s: reading domains from Graph failed: %s", tenant_id, exc)
        return _kept(cached, domains, f"Could not read your tenant's records from Graph: {exc}.")
    async with uow_factory() as uow:
        for truth in truths:
            await uow.truth.put(tenant_id, truth.domain, truth.to_json(), at)
        await uow.commit()
    return {t.domain: t for t in truths}


async def truths_here(
    uow_factory: Callable[[], UnitOfWork],
    caller: Caller,
    domain: str,
    reader: DomainTruthReader | None,
    box: SecretBox | None,
    *,
    refresh: bool = False,
    now: datetime | None = None,
) -> TenantTruth | None:
    """The truth for ``domain`` when it is a domain of the tenant of the caller's channel."""
    try:
        async with uow_factory() as uow:
            tenant = await tenant_here(uow, caller)
            tenant_id, domains = tenant.id, [d.domain for d in tenant.domains]
    except Refusal:
        return None  # a channel without a transition: a plain check
    if domain not in domains:
        return None
    found = await truths_for_tenant(
        uow_factory, tenant_id, [domain], reader, box, refresh=refresh, now=now
    )
    return found.get(domain)


async def audit_here(
    uow_factory: Callable[[], UnitOfWork] | None,
    caller: Caller,
    domain: str,
    dns: DnsConfig,
    reader: DomainTruthReader | None,
    box: SecretBox | None,
    *,
    refresh: bool = False,
) -> Audit:
    """``/transition check`` and its Re-check: the audit, with the tenant's own values when the
    channel's tenant has the domain. The cache failing never stops the check (defaults)."""
    truth, source, hybrid = None, None, False
    if uow_factory is not None:
        try:
            truth = await truths_here(uow_factory, caller, domain, reader, box, refresh=refresh)
        except (SQLAlchemyError, OSError) as exc:
            log.warning("tenant truth for %s unavailable: %r", domain, exc)
        source, hybrid = await _source_here(uow_factory, caller, domain)
    return await audit_domain(domain, dns, tenant=truth, source=source, hybrid=hybrid)


async def _source_here(
    uow_factory: Callable[[], UnitOfWork], caller: Caller, domain: str
) -> tuple[Source | None, bool]:
    """The channel's tenant's source and hybrid setting, when the domain is one of its own."""
    try:
        async with uow_factory() as uow:
            tenant = await tenant_here(uow, caller)
            tenant_id, domains = tenant.id, [d.domain for d in tenant.domains]
    except Refusal:
        return None, False
    except (SQLAlchemyError, OSError) as exc:
        log.warning("tenant of the channel unavailable: %r", exc)
        return None, False
    if domain not in domains:
        return None, False
    return await _source_of(uow_factory, tenant_id)


async def audit_tenant(
    uow_factory: Callable[[], UnitOfWork],
    tenant_id: int,
    domains: Sequence[str],
    dns: DnsConfig,
    reader: DomainTruthReader | None,
    box: SecretBox | None,
    *,
    refresh: bool = False,
) -> list[Audit]:
    """Every domain of a tenant at once, each with the tenant's own values when Graph gave them."""
    try:
        truths = await truths_for_tenant(
            uow_factory, tenant_id, domains, reader, box, refresh=refresh
        )
    except (SQLAlchemyError, OSError) as exc:
        log.warning("tenant truth of tenant %s unavailable: %r", tenant_id, exc)
        truths = {}
    source, hybrid = await _source_of(uow_factory, tenant_id)
    return list(
        await asyncio.gather(
            *(
                audit_domain(d, dns, tenant=truths.get(d), source=source, hybrid=hybrid)
                for d in domains
            )
        )
    )


async def _source_of(
    uow_factory: Callable[[], UnitOfWork], tenant_id: int
) -> tuple[Source | None, bool]:
    """The source platform the tenant's people chose (None: each audit detects it), and
    whether it keeps on-premises Exchange during the move (hybrid)."""
    try:
        async with uow_factory() as uow:
            tenant = await uow.tenants.get_any(tenant_id)
            if tenant is None:
                return None, False
            name, hybrid = tenant.source, tenant.onprem_exchange
    except (SQLAlchemyError, OSError) as exc:
        log.warning("source of tenant %s unavailable: %r", tenant_id, exc)
        return None, False
    return (by_name(name) if name else None), hybrid
