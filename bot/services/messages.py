"""Where a tenant's long-lived messages are (runbook, passwords), to edit them in place."""

from __future__ import annotations

from dataclasses import dataclass

from storage.uow import UnitOfWork

RUNBOOK = "runbook"
PASSWORDS = "passwords"


@dataclass(frozen=True)
class MessageRef:
    channel_id: str
    ts: str


async def remember_message(
    uow: UnitOfWork, tenant_id: int, kind: str, channel_id: str, ts: str
) -> None:
    async with uow:
        await uow.messages.remember(tenant_id, kind, channel_id, ts)
        await uow.commit()


async def find_message(uow: UnitOfWork, tenant_id: int, kind: str) -> MessageRef | None:
    async with uow:
        message = await uow.messages.get(tenant_id, kind)
        return None if message is None else MessageRef(message.channel_id, message.ts)
