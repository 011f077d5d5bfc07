"""The approval request message: Approve / Reject while open, updated in place with each vote."""

from __future__ import annotations

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, HeaderBlock

from bot.blocks.common import MAX_HEADER_TEXT, context, escape, section, truncate
from bot.blocks.ids import TenantAction
from bot.blocks.times import short
from bot.blocks.values import ApprovalValue
from bot.core.approvals import Decision, RequestStatus
from bot.core.runbook import STEP_BY_ID
from bot.services.views import ApprovalView

STATUS_LINE = {
    RequestStatus.OPEN: ":hourglass_flowing_sand: Waiting for approvals",
    RequestStatus.APPROVED: ":white_check_mark: *Approved*",
    RequestStatus.REJECTED: ":no_entry: *Rejected*",
}


def request_text(request: ApprovalView) -> str:
    title = STEP_BY_ID[request.step_id].title
    return (
        f"Approval for {title} ({request.tenant_name}): {request.status.value}, "
        f"{len(request.approvals)} of {request.approvals_needed} approvals"
    )


def request_blocks(request: ApprovalView, time_zone: str = "UTC") -> list[Block]:
    step = STEP_BY_ID[request.step_id]
    approvers = ", ".join(f"<@{a}>" for a in sorted(request.approvers)) or "none"
    lines = [
        f"<@{request.requested_by}> asks to *{escape(step.title)}* for "
        f"*{escape(request.tenant_name)}* ({short(request.requested_at, time_zone)}).",
        f"Needs {request.approvals_needed} approval(s) from: {approvers} "
        "(not the requester). One Reject closes the request.",
    ]
    votes = []
    for vote in request.votes:
        verb = "approved" if vote.decision is Decision.APPROVE else "rejected"
        emoji = ":white_check_mark:" if vote.decision is Decision.APPROVE else ":x:"
        votes.append(f"{emoji} <@{vote.user_id}> {verb}, {short(vote.at, time_zone)}")
    blocks: list[Block] = [
        HeaderBlock(text=truncate(f"Approval: {step.title}", MAX_HEADER_TEXT)),
        section("\n".join(lines)),
    ]
    if votes:
        blocks.append(section("\n".join(votes)))
    status = STATUS_LINE[request.status]
    blocks.append(
        context(f"{status} · {len(request.approvals)} of {request.approvals_needed} approvals")
    )
    if request.status is RequestStatus.OPEN:
        value = ApprovalValue(request.tenant_id, request.id).pack()
        blocks.append(
            ActionsBlock(
                block_id="approval",
                elements=[
                    ButtonElement(
                        text="Approve", action_id=TenantAction.APPROVE, value=value, style="primary"
                    ),
                    ButtonElement(
                        text="Reject", action_id=TenantAction.REJECT, value=value, style="danger"
                    ),
                ],
            )
        )
    return blocks
