"""Every action_id and callback_id of the bot's buttons, menus and modals (listeners register
on these values; tests/slack_tenants/test_wiring.py checks each has one). What a button carries
in its value is in ``bot.blocks.values``.
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
