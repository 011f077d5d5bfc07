"""Per-user acknowledgements (the passwords step): each person's click is recorded once."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from bot.core.clock import now_or_utcnow
from bot.core.runbook import StepId
from bot.services.common import Caller, record, tenant_by_id
from storage.uow import UnitOfWork


@dataclass(frozen=True)
class AckTally:
    tenant_id: int
    acked: frozenset[str]
    new: bool = False  # this call recorded the caller's acknowledgement

    def among(self, members: Collection[str]) -> tuple[int, int, tuple[str, ...]]:
        """(done, total, not yet) among the channel's ``members``."""
        people = list(dict.fromkeys(members))
        missing = tuple(m for m in people if m not in self.acked)
        return len(people) - len(missing), len(people), missing


async def acknowledge(
    uow: UnitOfWork,
    caller: Caller,
    tenant_id: int,
    step_id: StepId = StepId.PASSWORDS,
    now: datetime | None = None,
) -> AckTally:
    at = now_or_utcnow(now)
    async with uow:
        tenant = await tenant_by_id(uow, caller, tenant_id)
        new = await uow.acks.add(tenant.id, step_id, caller.user_id, at)
        if new:
            record(uow, tenant, caller.user_id, "ack", at, step_id)
        await uow.commit()
        acked = await uow.acks.users(tenant.id, step_id)
        return AckTally(tenant.id, frozenset(acked), new)


async def tally(
    uow: UnitOfWork, caller: Caller, tenant_id: int, step_id: StepId = StepId.PASSWORDS
) -> AckTally:
    async with uow:
        tenant = await tenant_by_id(uow, caller, tenant_id)
        return AckTally(tenant.id, frozenset(await uow.acks.users(tenant.id, step_id)))
