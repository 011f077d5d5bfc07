"""The poll job's I/O: claim due tenants, audit their domains (+ mailbox probe), run ``detect``,
and store the new observation, the step changes and the announcements in ONE transaction.

Any number of replicas may run this on one PostgreSQL: a due tenant is claimed by one of them
(row lease, ``SKIP LOCKED``), and the observation is written only over the version the poll
started from, so even a poll that outlived its lease cannot announce a change twice.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.blocks.announcements import (
    announcement_blocks_json,
    fallback_text,
    probe_failed_blocks_json,
    probe_failed_text,
)
from bot.core import dns_step
from bot.core.approvals import RequestStatus
from bot.core.clock import Clock, utcnow
from bot.core.evidence import Evidence, SummaryEvidence
from bot.core.runbook import Status, StepId
from bot.dnscheck.audit import audit_domain
from bot.dnscheck.local_autodiscover import LocalAutodiscover
from bot.dnscheck.local_query import check_local_autodiscover
from bot.dnscheck.model import Audit, AuditErrorKind, DnsConfig
from bot.dnscheck.sources import Source, by_name
from bot.dnscheck.tenant import TenantTruth
from bot.mailbox.graph import GraphCredentials, GraphError, MailboxProbe
from bot.mailbox.report import MailboxReport, evaluate
from bot.ops.logs import register_secret
from bot.ops.secrets import SecretBox, SecretDecryptionError
from bot.outbox.enqueue import Post, enqueue_many
from bot.services.steps import AutomatedCheck, checks_by_watch
from bot.services.tenant_truth import Cached, DomainTruthReader, StoredApp, resolve_truths
from bot.watch.detect import Detection, TenantFacts, detect
from bot.watch.events import StepReached
from bot.watch.observation import Observation
from storage.models import GraphCredential
from storage.observations import ObservationWrite
from storage.polls import PollDone
from storage.tenants import WatchedTenant
from storage.uow import UnitOfWork

log = logging.getLogger(__name__)

AuditFn = Callable[..., Awaitable[Audit]]  # (domain, config, *, source=, hybrid=, tenant=)


def _stored_app(row: GraphCredential | None) -> StoredApp | None:
    if row is None:
        return None
    return StoredApp(row.azure_tenant_id, row.client_id, row.secret_encrypted)


LocalCheckFn = Callable[[str, str, float], Awaitable[LocalAutodiscover]]
ENSURE_EVERY = 5.0  # seconds between looks for tenants without a poll row


@dataclass(frozen=True)
class WatchOptions:
    replica_id: str
    poll_seconds: float = 300.0
    fast_poll_seconds: float = 30.0
    lease_seconds: float = 60.0  # a poll that takes longer is abandoned; another replica retries
    batch: int = 100  # tenants claimed per tick
    concurrency: int = 32  # tenants polled at once


@dataclass(frozen=True)
class Snapshot:
    """Everything a poll reads before the network part (loaded in one short transaction)."""

    tenant_id: int
    channel_id: str
    domains: tuple[str, ...]
    facts: TenantFacts
    observation: Observation
    credentials: GraphCredentials | None
    addresses: tuple[str, ...]
    required_share: float
    credential_error: str | None
    last_error: str | None = None  # of the previous poll (an error is announced when new)
    # with on-premises Exchange: the internal DNS server to ask for local autodiscover
    internal_dns: str | None = None
    source: Source | None = None  # as a person chose it; None: each audit detects it
    hybrid: bool = False  # on-premises Exchange kept during the move
    # the tenant's app registration and its cached Graph records per domain (tenant truth)
    app: StoredApp | None = None
    truth_cache: Cached = field(default_factory=dict)


@dataclass(frozen=True)
class Observed:
    """A tenant after the network part: what to store."""

    snapshot: Snapshot
    outcome: Detection
    now: datetime
    error: str | None
    audits: dict[str, Audit]


@dataclass(frozen=True)
class PollResult:
    tenant_id: int
    stored: bool  # the observation (or nothing new) was stored and the lease released
    events: int  # outbox rows inserted
    error: str | None = None


class Poller:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        dns: DnsConfig,
        options: WatchOptions,
        *,
        probe: MailboxProbe | None = None,
        secrets: SecretBox | None = None,
        audit: AuditFn = audit_domain,
        local_check: LocalCheckFn = check_local_autodiscover,
        clock: Clock = utcnow,
        on_outbox: Callable[[], None] | None = None,
        domain_reader: DomainTruthReader | None = None,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._dns = dns
        self.options = options
        self._probe = probe
        self._secrets = secrets
        self._audit = audit
        self._local_check = local_check
        self._clock = clock
        self._on_outbox = on_outbox
        self._domain_reader = domain_reader
        self._ensured_at: datetime | None = None

    def _uow(self) -> UnitOfWork:
        return UnitOfWork(self._sessionmaker)

    async def claim(self) -> list[int]:
        now = self._clock()
        lease_until = now + timedelta(seconds=self.options.lease_seconds)
        async with self._uow() as uow:
            if self._ensured_at is None or (now - self._ensured_at).total_seconds() > ENSURE_EVERY:
                await uow.polls.ensure(now)  # tenants started since: due at once
                self._ensured_at = now
            ids = await uow.polls.claim_due(
                self.options.replica_id, now, lease_until, self.options.batch
            )
            await uow.commit()
        return ids

    async def run_once(self) -> list[PollResult]:
        """One tick: claim what is due and poll it. Returns what happened per tenant."""
        ids = await self.claim()
        if not ids:
            return []
        results = await self.poll_tenants(ids)
        if self._on_outbox is not None and any(r.events for r in results):
            self._on_outbox()
        return results

    async def poll_tenant(self, tenant_id: int) -> PollResult:
        (result,) = await self.poll_tenants([tenant_id])
        return result

    async def poll_tenants(self, tenant_ids: list[int]) -> list[PollResult]:
        """Read every snapshot in one transaction, do the network part concurrently, and store
        the outcomes in one transaction (a savepoint per tenant)."""
        snapshots = await self._load(tenant_ids)
        gone = [PollResult(t, False, 0, "tenant gone") for t in tenant_ids if t not in snapshots]
        limit = asyncio.Semaphore(self.options.concurrency)
        budget = self.options.lease_seconds * 0.8

        async def observe(snapshot: Snapshot) -> Observed | PollResult:
            async with limit:
                try:
                    return await asyncio.wait_for(self._observe(snapshot), budget)
                except TimeoutError:
                    log.warning(
                        "watch: poll of tenant %s took too long; left for a retry",
                        snapshot.tenant_id,
                    )
                    return PollResult(snapshot.tenant_id, False, 0, "timeout")

        observed = await asyncio.gather(*(observe(s) for s in snapshots.values()))
        done = [o for o in observed if isinstance(o, Observed)]
        failed = [o for o in observed if isinstance(o, PollResult)]
        return [*await self._store(done), *failed, *gone]

    async def _observe(self, snapshot: Snapshot) -> Observed:
        truths = await self._truths(snapshot)
        audits, local = await asyncio.gather(self._audits(snapshot, truths), self._local(snapshot))
        report, probe_error = await self._report(snapshot)
        now = self._clock()
        outcome = detect(snapshot.observation, audits, report, snapshot.facts, now, local)
        return Observed(snapshot, outcome, now, probe_error or snapshot.credential_error, audits)

    async def _load(self, tenant_ids: list[int]) -> dict[int, Snapshot]:
        async with self._uow() as uow:
            tenants = await uow.tenants.watched(tenant_ids)
            ids = [t.id for t in tenants]
            steps = await uow.steps.statuses(ids)
            observations = await uow.observations.for_tenants(ids)
            credentials = await uow.credentials.for_tenants(ids)
            approvals = await uow.approvals.latest_statuses(ids, StepId.MX)
            errors = await uow.polls.last_errors(ids)
            truths = await uow.truth.for_tenants(ids) if self._domain_reader is not None else {}
            return {
                t.id: replace(
                    self._snapshot(
                        t,
                        steps.get(t.id, {}),
                        observations.get(t.id),
                        credentials.get(t.id),
                        approvals.get(t.id) == RequestStatus.APPROVED,
                    ),
                    last_error=errors.get(t.id),
                    app=_stored_app(credentials.get(t.id)),
                    truth_cache=truths.get(t.id, {}),
                )
                for t in tenants
            }

    def _snapshot(
        self,
        tenant: WatchedTenant,
        steps: dict[str, str],
        stored: tuple[int, dict[str, Any]] | None,
        row: GraphCredential | None,
        mx_approved: bool,
    ) -> Snapshot:
        observation = (
            Observation.from_json({**stored[1], "version": stored[0]}) if stored else Observation()
        )
        creds, error = None, None
        addresses: tuple[str, ...] = ()
        share = 1.0
        if row is not None and steps.get(StepId.VERIFY_DATA) == Status.OPEN:
            try:
                if self._secrets is None:
                    raise SecretDecryptionError(
                        "TRANSITION_SECRET_KEY is not set: the mailbox probe is off"
                    )
                secret = self._secrets.decrypt(row.secret_encrypted)
                register_secret(secret)  # never in a log line, whatever msal logs
                creds = GraphCredentials(row.azure_tenant_id, row.client_id, secret)
            except SecretDecryptionError as exc:
                error = str(exc)
            addresses = row.mailboxes
            share = row.required_share
        facts = TenantFacts(
            tenant_id=tenant.id,
            data_verified=steps.get(StepId.VERIFY_DATA) == Status.DONE,
            mx_approved=mx_approved,
            approvers=tenant.approvers,
            time_zone=tenant.time_zone,
            domains=tenant.domains,
        )
        return Snapshot(
            tenant_id=tenant.id,
            channel_id=tenant.channel_id,
            domains=tenant.domains,
            facts=facts,
            observation=observation,
            credentials=creds,
            addresses=addresses,
            required_share=share,
            credential_error=error,
            internal_dns=tenant.internal_dns_server if tenant.onprem_exchange else None,
            source=by_name(tenant.source) if tenant.source else None,
            hybrid=tenant.onprem_exchange,
        )

    async def _local(self, snapshot: Snapshot) -> tuple[LocalAutodiscover, ...]:
        """The internal DNS server's answer for each domain (on-premises Exchange only)."""
        server = snapshot.internal_dns
        if server is None:
            return ()
        checks = (self._local_check(d, server, self._dns.timeout) for d in snapshot.domains)
        return tuple(await asyncio.gather(*checks))

    async def _truths(self, snapshot: Snapshot) -> dict[str, TenantTruth]:
        """The tenant's own records: cached a day, then read again from Graph."""
        try:
            return await resolve_truths(
                self._uow,
                snapshot.tenant_id,
                snapshot.domains,
                snapshot.truth_cache,
                snapshot.app,
                self._domain_reader,
                self._secrets,
                now=self._clock(),
            )
        except (SQLAlchemyError, OSError) as exc:  # storing the answer failed: defaults now
            log.warning("watch: tenant truth of tenant %s: %r", snapshot.tenant_id, exc)
            return {}

    def _audit_of(
        self, snapshot: Snapshot, truths: Mapping[str, TenantTruth]
    ) -> Callable[[str], Awaitable[Audit]]:
        def audit(domain: str) -> Awaitable[Audit]:
            extra: dict[str, Any] = {}  # only what is set: the plain call stays the plain call
            if snapshot.source is not None or snapshot.hybrid:
                extra.update(source=snapshot.source, hybrid=snapshot.hybrid)
            if (truth := truths.get(domain)) is not None:
                extra["tenant"] = truth
            return self._audit(domain, self._dns, **extra)

        return audit

    async def _audits(
        self, snapshot: Snapshot, truths: Mapping[str, TenantTruth]
    ) -> dict[str, Audit]:
        domains, audit = snapshot.domains, self._audit_of(snapshot, truths)
        results = await asyncio.gather(*(audit(d) for d in domains), return_exceptions=True)
        audits: dict[str, Audit] = {}
        for domain, result in zip(domains, results, strict=True):
            if isinstance(result, Audit):
                audits[domain] = result
            else:  # the engine should not raise; if it does, this domain is unknown this time
                log.warning("watch: audit of %s failed: %r", domain, result)
                audits[domain] = Audit(
                    domain=domain,
                    display_domain=domain,
                    error=AuditErrorKind.UNREACHABLE,
                    error_message="the DNS check failed unexpectedly",
                )
        return audits

    async def _report(self, snapshot: Snapshot) -> tuple[MailboxReport | None, str | None]:
        if snapshot.credentials is None or self._probe is None:
            return None, None
        try:
            counts = await self._probe.counts(snapshot.credentials, snapshot.addresses)
        except GraphError as exc:
            log.warning("watch: mailbox probe of tenant %s: %s", snapshot.tenant_id, exc)
            return None, str(exc)
        return evaluate(counts, snapshot.required_share), None

    async def _store(self, batch: list[Observed]) -> list[PollResult]:
        """Everything the batch found, in one transaction: observations, announcements and
        finished polls a few statements per kind of row, not per tenant (a first sweep
        stores every tenant); step changes through the services, many tenants a call."""
        if not batch:
            return []
        options = self.options
        # split in one pass (membership tests on frozen dataclasses would be quadratic)
        quiet: list[Observed] = []
        busy: list[Observed] = []
        for o in batch:
            noisy = o.outcome.changed or o.outcome.events or o.error is not None
            (busy if noisy else quiet).append(o)
        results: list[PollResult] = []
        async with self._uow() as uow:
            for fast in (False, True):  # polls that found nothing new: two bulk updates
                group = [o for o in quiet if o.outcome.fast is fast]
                now = max((o.now for o in group), default=self._clock())
                await uow.polls.release_unchanged(
                    [o.snapshot.tenant_id for o in group],
                    options.replica_id,
                    now=now,
                    next_poll_at=now + timedelta(seconds=self._interval(fast)),
                    fast=fast,
                )
                results += [PollResult(o.snapshot.tenant_id, True, 0) for o in group]
            written = await uow.observations.store(
                [
                    ObservationWrite(
                        tenant_id=o.snapshot.tenant_id,
                        prev_version=o.snapshot.observation.version,
                        version=o.outcome.observation.version,
                        data=o.outcome.observation.to_json(),
                        observed_at=o.now,
                    )
                    for o in busy
                    if o.outcome.changed
                ]
            )
            kept: list[Observed] = []
            for o in busy:
                if not o.outcome.changed or o.snapshot.tenant_id in written:
                    kept.append(o)
                else:  # another replica stored a newer observation first: drop ours whole
                    results.append(PollResult(o.snapshot.tenant_id, False, 0, "stale"))
            # due from when the batch is stored (its polls ended within the lease)
            stored_at = max((o.now for o in kept), default=self._clock())
            inserted = Counter(await enqueue_many(uow, _posts(kept), stored_at))
            await checks_by_watch(uow, _step_checks(kept))
            await uow.polls.finish(
                [
                    PollDone(
                        tenant_id=o.snapshot.tenant_id,
                        polled_at=o.now,
                        next_poll_at=o.now + timedelta(seconds=self._interval(o.outcome.fast)),
                        fast=o.outcome.fast,
                        error=o.error,
                    )
                    for o in kept
                ],
                options.replica_id,
            )
            await uow.commit()
        results += [
            PollResult(o.snapshot.tenant_id, True, inserted[o.snapshot.tenant_id], o.error)
            for o in kept
        ]
        return results

    def _interval(self, fast: bool) -> float:
        return self.options.fast_poll_seconds if fast else self.options.poll_seconds


def _step_checks(kept: list[Observed]) -> list[AutomatedCheck]:
    """The checks and completed steps the batch saw, each tenant's in the order of its poll."""
    found: list[AutomatedCheck] = []
    for item in kept:
        tenant_id, outcome, now = item.snapshot.tenant_id, item.outcome, item.now
        for checked in outcome.checks:
            evidence = SummaryEvidence(now, checked.summary)
            found.append(AutomatedCheck(tenant_id, checked.step_id, checked.passed, evidence, now))
        for reached in outcome.steps:
            found.append(
                AutomatedCheck(tenant_id, reached.step_id, True, _evidence(reached, item), now)
            )
    return found


def _posts(kept: list[Observed]) -> list[Post]:
    """The announcements of what the batch found: each change's, and a new reason the
    automatic data check fails (told once)."""
    found: list[Post] = []
    for item in kept:
        snapshot = item.snapshot
        for event in item.outcome.events:
            found.append(
                Post(
                    key=event.key,
                    tenant_id=snapshot.tenant_id,
                    channel_id=snapshot.channel_id,
                    kind=event.kind.value,
                    text=fallback_text(event),
                    blocks=announcement_blocks_json(event),
                    edit_group=event.edit_group,
                )
            )
        if item.error and item.error != snapshot.last_error:
            digest = hashlib.sha256(item.error.encode()).hexdigest()[:16]
            version = snapshot.observation.version
            found.append(
                Post(
                    key=f"t{snapshot.tenant_id}:probe-failed:{digest}:{version}",
                    tenant_id=snapshot.tenant_id,
                    channel_id=snapshot.channel_id,
                    kind="probe-failed",
                    text=probe_failed_text(item.error),
                    blocks=probe_failed_blocks_json(item.error),
                )
            )
    return found


def _evidence(reached: StepReached, item: Observed) -> Evidence:
    """The `dns` step keeps this poll's audits, as Re-check would; the others one line."""
    if reached.step_id is StepId.DNS:
        audits = [item.audits[d] for d in item.snapshot.domains if d in item.audits]
        return dns_step.evidence(audits, item.now)
    return SummaryEvidence(item.now, reached.summary)
