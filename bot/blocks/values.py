"""What a button carries in its ``value``: ids only, packed into a string and unpacked from the
click. Every click is re-checked against the clicker's workspace by the services; a value the
bot did not make (forged, from an older version) raises ``ButtonValueError``.

- ``TenantValue``   ``"12"``       Re-check DNS, the password acknowledgement, the mailbox buttons
- ``StepValue``     ``"12:dns"``   a step's Done / Skip / Reopen, and the owner picker's block_id
- ``ApprovalValue`` ``"12:7"``     Approve / Reject of an approval request
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Self

from bot.core.runbook import StepId

_SEPARATOR = ":"
_INTEGER = re.compile(r"0|-?[1-9][0-9]*")  # as str(int) writes them


class ButtonValueError(ValueError):
    """A button value the bot did not make."""

    def __init__(self, value: str, kind: str) -> None:
        super().__init__(f"not a {kind} button value: {value[:100]!r}")


def _fields(value: str, count: int, kind: str) -> list[str]:
    parts = value.split(_SEPARATOR)
    if len(parts) != count or not all(parts):
        raise ButtonValueError(value, kind)
    return parts


def _integer(text: str, value: str, kind: str) -> int:
    if not _INTEGER.fullmatch(text):
        raise ButtonValueError(value, kind)
    return int(text)


@dataclass(frozen=True)
class TenantValue:
    tenant_id: int

    def pack(self) -> str:
        return str(self.tenant_id)

    @classmethod
    def unpack(cls, value: str) -> Self:
        (tenant,) = _fields(value, 1, "tenant")
        return cls(_integer(tenant, value, "tenant"))


@dataclass(frozen=True)
class StepValue:
    tenant_id: int
    step_id: StepId

    def pack(self) -> str:
        return f"{self.tenant_id}{_SEPARATOR}{self.step_id}"

    @classmethod
    def unpack(cls, value: str) -> Self:
        tenant, step = _fields(value, 2, "step")
        try:
            step_id = StepId(step)
        except ValueError:
            raise ButtonValueError(value, "step") from None
        return cls(_integer(tenant, value, "step"), step_id)


@dataclass(frozen=True)
class ApprovalValue:
    tenant_id: int
    request_id: int

    def pack(self) -> str:
        return f"{self.tenant_id}{_SEPARATOR}{self.request_id}"

    @classmethod
    def unpack(cls, value: str) -> Self:
        tenant, request = _fields(value, 2, "approval")
        return cls(_integer(tenant, value, "approval"), _integer(request, value, "approval"))
