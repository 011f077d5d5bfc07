"""The unit of work: one session, one transaction, the repositories on top of it.

    async with UnitOfWork(sessionmaker) as uow:
        tenant = await uow.tenants.by_channel(workspace.id, channel)
        ...
        await uow.commit()

Leaving the block without ``commit()`` rolls back. (cosmicpython's pattern, ported to async.)
The repositories are the only way to storage from outside this package: nothing above it
touches ``session``.
"""

from __future__ import annotations

from types import TracebackType

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.dns_truth import TruthRepository
from storage.graph_credentials import GraphCredentialRepository
from storage.observations import ObservationRepository
from storage.outbox import OutboxRepository
from storage.polls import PollRepository
from storage.seen_events import EventRepository
from storage.tenants import (
    AcknowledgementRepository,
    ApprovalRepository,
    AuditRepository,
    MessageRepository,
    ReminderRepository,
    StepRepository,
    TenantRepository,
)
from storage.workspaces import WorkspaceRepository


class UnitOfWork:
    session: AsyncSession
    workspaces: WorkspaceRepository
    tenants: TenantRepository
    steps: StepRepository
    approvals: ApprovalRepository
    reminders: ReminderRepository
    acks: AcknowledgementRepository
    messages: MessageRepository
    audit: AuditRepository
    polls: PollRepository
    observations: ObservationRepository
    outbox: OutboxRepository
    credentials: GraphCredentialRepository
    truth: TruthRepository
    events: EventRepository

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self._sessionmaker = sessionmaker

    async def __aenter__(self) -> UnitOfWork:
        self.session = self._sessionmaker()
        session = self.session
        self.workspaces = WorkspaceRepository(session)
        self.tenants = TenantRepository(session)
        self.steps = StepRepository(session)
        self.approvals = ApprovalRepository(session)
        self.reminders = ReminderRepository(session)
        self.acks = AcknowledgementRepository(session)
        self.messages = MessageRepository(session)
        self.audit = AuditRepository(session)
        self.polls = PollRepository(session)
        self.observations = ObservationRepository(session)
        self.outbox = OutboxRepository(session)
        self.credentials = GraphCredentialRepository(session)
        self.truth = TruthRepository(session)
        self.events = EventRepository(session)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            await self.session.rollback()
        finally:
            await self.session.close()

    async def commit(self) -> None:
        await self.session.commit()

    async def rollback(self) -> None:
        await self.session.rollback()

    async def flush(self) -> None:
        await self.session.flush()
