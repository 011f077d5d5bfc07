"""Every action_id and callback_id of the bot's buttons, menus and modals (listeners register
on these values; tests/slack_tenants/test_wiring.py checks each has one), and the ids a button
carries in its value.

Button values carry ids only (``tenant_id:step`` or ``tenant_id:request_id``); every click is
re-checked against the clicker's workspace by the services.
"""

from __future__ import annotations

from enum import StrEnum


class ActionId(StrEnum):
    RECHECK = "check.recheck"


class TenantAction(StrEnum):
    STEP_DONE = "runbook.done"
    STEP_SKIP = "runbook.skip"
    STEP_REOPEN = "runbook.reopen"
    DNS_RECHECK = "runbook.dns_recheck"
    PASSWORDS_ACK = "runbook.passwords_ack"
    ASSIGN = "runbook.assign"  # owner picker beside a step; block_id "owner-<tenant>:<step>"
    APPROVE = "approval.approve"
    REJECT = "approval.reject"


class MailboxAction(StrEnum):
    OPEN_OWA = "mailbox.open_owa"
    SEEN = "mailbox.seen"
    SETUP = "mailbox.setup"


class ViewId(StrEnum):
    """callback_ids of the modals."""

    START = "tenant.start"
    SKIP = "runbook.skip_reason"
    GRAPH = "mailbox.graph_credentials"


OWNER_BLOCK_PREFIX = "owner-"


def pack(*parts: object) -> str:
    return ":".join(str(p) for p in parts)


def unpack(value: str, count: int) -> list[str]:
    """``"12:dns"`` -> ``["12", "dns"]``; ValueError when the shape is wrong."""
    parts = value.split(":", count - 1)
    if len(parts) != count or not all(parts):
        raise ValueError(f"bad button value {value!r}")
    return parts
