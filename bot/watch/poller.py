"""The poll job's I/O: claim due tenants, audit their domains (+ mailbox probe), run ``detect``,
and store the new observation, the step changes and the announcements in ONE transaction.

Any number of replicas may run this on one PostgreSQL: a due tenant is claimed by one of them
(row lease, ``SKIP LOCKED``), and the observation is written only over the version the poll
started from, so even a poll that outlived its lease cannot announce a change twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.blocks.announcements import announcement_payload, fallback_text
from bot.dnscheck.audit import audit_domain
from bot.dnscheck.model import Audit, DnsConfig
from bot.mailbox.graph import GraphCredentials, GraphError, MailboxProbe
from bot.mailbox.report import MailboxReport, evaluate
from bot.runbook import Action, RunbookRefusal, Status, StepId, next_status
from bot.secrets import SecretBox, SecretDecryptionError
from bot.services.common import BOT_ACTOR, record
from bot.services.steps import approval_granted
from bot.watch.detect import Outcome, TenantFacts, detect
from bot.watch.events import StepChange
from bot.watch.observation import Observation
from storage.models import StepState, Tenant
from storage.models_watch import OutboxStatus
from storage.uow import UnitOfWork
from storage.watch_repository import WatchRepository

log = logging.getLogger(__name__)

AuditFn = Callable[[str, DnsConfig], Awaitable[Audit]]


def utcnow() -> datetime:
    return datetime.now(UTC)


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
        clock: Callable[[], datetime] = utcnow,
        on_outbox: Callable[[], None] | None = None,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._dns = dns
        self.options = options
        self._probe = probe
        self._secrets = secrets
        self._audit = audit
        self._clock = clock
        self._on_outbox = on_outbox

    def _uow(self) -> UnitOfWork:
        return UnitOfWork(self._sessionmaker)

    async def claim(self) -> list[int]:
        now = self._clock()
        lease_until = now + timedelta(seconds=self.options.lease_seconds)
        async with self._uow() as uow:
            repo = WatchRepository(uow.session)
            await repo.ensure_polls(now)
            ids = await repo.claim_due(
                self.options.replica_id, now, lease_until, self.options.batch
            )
            await uow.commit()
        return ids

    async def run_once(self) -> list[PollResult]:
        """One tick: claim what is due and poll it. Returns what happened per tenant."""
        ids = await self.claim()
        if not ids:
            return []
        limit = asyncio.Semaphore(self.options.concurrency)
        budget = self.options.lease_seconds * 0.8

        async def one(tenant_id: int) -> PollResult:
            async with limit:
                try:
                    return await asyncio.wait_for(self.poll_tenant(tenant_id), budget)
                except TimeoutError:
                    log.warning(
                        "watch: poll of tenant %s took too long; left for a retry", tenant_id
                    )
                    return PollResult(tenant_id, False, 0, "timeout")

        results = await asyncio.gather(*(one(i) for i in ids))
        if self._on_outbox is not None and any(r.events for r in results):
            self._on_outbox()
        return list(results)

    # --- one tenant -----------------------------------------------------------------------

    async def poll_tenant(self, tenant_id: int) -> PollResult:
        snapshot = await self._load(tenant_id)
        if snapshot is None:
            return PollResult(tenant_id, False, 0, "tenant gone")
        audits = await self._audits(snapshot.domains)
        report, probe_error = await self._report(snapshot)
        now = self._clock()
        outcome = detect(snapshot.observation, audits, report, snapshot.facts, now)
        error = probe_error or snapshot.credential_error
        return await self._store(snapshot, outcome, now, error)

    async def _load(self, tenant_id: int) -> Snapshot | None:
        async with self._uow() as uow:
            tenant: Tenant | None = await uow.tenants.get_any(tenant_id)
            if tenant is None:
                return None
            repo = WatchRepository(uow.session)
            steps = {r.step_id: r.status for r in await uow.steps.for_tenant(tenant.id)}
            stored = await repo.observation(tenant.id)
            observation = (
                Observation.from_json({**stored[1], "version": stored[0]})
                if stored
                else Observation()
            )
            creds, error = None, None
            addresses: tuple[str, ...] = ()
            share = 1.0
            row = await repo.graph_credential(tenant.id)
            if row is not None and steps.get(StepId.VERIFY_DATA) == Status.OPEN:
                try:
                    if self._secrets is None:
                        raise SecretDecryptionError("TRANSITION_SECRET_KEY is not set")
                    creds = GraphCredentials(
                        row.azure_tenant_id,
                        row.client_id,
                        self._secrets.decrypt(row.secret_encrypted),
                    )
                except SecretDecryptionError as exc:
                    error = str(exc)
                addresses = tuple(row.addresses.get("addresses", ()))
                share = row.required_share
            facts = TenantFacts(
                tenant_id=tenant.id,
                data_verified=steps.get(StepId.VERIFY_DATA) == Status.DONE,
                mx_approved=await approval_granted(uow, tenant.id, StepId.MX),
                approvers=tuple(a.user_id for a in tenant.approvers),
                time_zone=tenant.time_zone,
            )
            return Snapshot(
                tenant_id=tenant.id,
                channel_id=tenant.channel_id,
                domains=tuple(d.domain for d in tenant.domains),
                facts=facts,
                observation=observation,
                credentials=creds,
                addresses=addresses,
                required_share=share,
                credential_error=error,
            )

    async def _audits(self, domains: tuple[str, ...]) -> dict[str, Audit]:
        results = await asyncio.gather(
            *(self._audit(d, self._dns) for d in domains), return_exceptions=True
        )
        audits: dict[str, Audit] = {}
        for domain, result in zip(domains, results, strict=True):
            if isinstance(result, Audit):
                audits[domain] = result
            else:  # the engine should not raise; if it does, this domain is simply unknown
                log.warning("watch: audit of %s failed: %r", domain, result)
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

    async def _store(
        self, snapshot: Snapshot, outcome: Outcome, now: datetime, error: str | None
    ) -> PollResult:
        options = self.options
        interval = options.fast_poll_seconds if outcome.fast else options.poll_seconds
        async with self._uow() as uow:
            repo = WatchRepository(uow.session)
            prev = snapshot.observation
            if outcome.changed and not await repo.store_observation(
                snapshot.tenant_id,
                prev.version,
                outcome.observation.version,
                outcome.observation.to_json(),
                now,
            ):
                # Another replica stored a newer observation first: ours is stale, drop it.
                await uow.rollback()
                return PollResult(snapshot.tenant_id, False, 0, "stale")
            inserted = 0
            for event in outcome.events:
                inserted += await repo.add_outbox(
                    {
                        "dedupe_key": event.key,
                        "tenant_id": snapshot.tenant_id,
                        "channel_id": snapshot.channel_id,
                        "kind": event.kind.value,
                        "text": fallback_text(event),
                        "blocks": announcement_payload(event),
                        "edit_group": event.edit_group,
                        "status": OutboxStatus.PENDING,
                        "attempts": 0,
                        "next_attempt_at": now,
                        "created_at": now,
                    }
                )
            for change in outcome.steps:
                await self._complete_step(uow, snapshot, change, now)
            await repo.finish_poll(
                snapshot.tenant_id,
                options.replica_id,
                now=now,
                next_poll_at=now + timedelta(seconds=interval),
                fast=outcome.fast,
                error=error,
            )
            await uow.commit()
        return PollResult(snapshot.tenant_id, True, inserted, error)

    async def _complete_step(
        self, uow: UnitOfWork, snapshot: Snapshot, change: StepChange, now: datetime
    ) -> None:
        """Mark a step done when the runbook allows it (open, gate passed); else leave it."""
        step_id = StepId(change.step_id)
        rows = {r.step_id: r for r in await uow.steps.for_tenant(snapshot.tenant_id)}
        statuses = {StepId(k): Status(r.status) for k, r in rows.items()}
        try:
            after = next_status(step_id, Action.DONE, statuses, approved=snapshot.facts.mx_approved)
        except RunbookRefusal:
            return
        row = await uow.steps.get(snapshot.tenant_id, step_id, for_update=True)
        if row is None:
            row = StepState(tenant_id=snapshot.tenant_id, step_id=step_id)
            uow.steps.add(row)
        row.status = after
        row.actor_id = BOT_ACTOR
        row.changed_at = now
        row.evidence = {"watch": change.evidence, "at": now.isoformat()}
        tenant = await uow.tenants.get_any(snapshot.tenant_id)
        if tenant is not None:
            record(uow, tenant, BOT_ACTOR, "step.done", now, step_id, automated=True)
