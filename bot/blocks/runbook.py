"""The runbook message (`/transition status`, and the post when a tenant starts).

One section per step in the guide's order, with its state, who and when, the evidence of
automated steps, and Done / Skip / Reopen buttons; the header line shows "3 of 8 done".
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    DividerBlock,
    HeaderBlock,
    UserSelectElement,
)

from bot.blocks.common import MAX_HEADER_TEXT, context, escape, section, truncate
from bot.blocks.ids import OWNER_BLOCK_PREFIX, TenantAction
from bot.blocks.times import short
from bot.blocks.values import StepValue, TenantValue
from bot.core.approvals import Decision, RequestStatus, Vote
from bot.core.runbook import STEPS, Approval, Status, StepId
from bot.services.views import ApprovalView, StepView, TenantStatus

STATUS_EMOJI: dict[Status, str] = {
    Status.OPEN: ":white_circle:",
    Status.DONE: ":white_check_mark:",
    Status.SKIPPED: ":fast_forward:",
    Status.NOT_NEEDED: ":heavy_minus_sign:",
}
STATUS_WORD: dict[Status, str] = {
    Status.OPEN: "open",
    Status.DONE: "done",
    Status.SKIPPED: "skipped",
    Status.NOT_NEEDED: "not needed",
}


def status_text(status: TenantStatus) -> str:
    """Fallback / notification text."""
    nxt = status.next_step
    tail = f" · next: {nxt.title}" if nxt else " · every step finished"
    return f"{status.tenant.name}: {status.progress}{tail}"


def _who_when(view: StepView, time_zone: str) -> str:
    if view.status in (Status.OPEN, Status.NOT_NEEDED) or not view.actor_id:
        return ""
    who = "the bot" if view.actor_id == "bot" else f"<@{view.actor_id}>"
    when = short(view.changed_at, time_zone)
    return f" by {who}" + (f", {when}" if when else "")


def dns_evidence_text(evidence: dict[str, Any] | None, time_zone: str) -> str:
    if not evidence:
        return "_Not checked yet._"
    parts = []
    for d in evidence.get("domains", []):
        name = escape(str(d.get("display") or d.get("domain")))
        if d.get("error"):
            parts.append(f"{name}: :grey_question: {escape(str(d['error']))}")
        elif d.get("passed"):
            parts.append(f"{name} :white_check_mark:")
        else:
            failing = ", ".join(escape(str(f)) for f in d.get("failing", []))
            parts.append(f"{name}: to fix — {failing}")
    checked = str(evidence.get("checked_at", ""))
    when = ""
    if checked:
        when = f" (checked {short(datetime.fromisoformat(checked), time_zone)})"
    return "Last check" + when + ": " + ("; ".join(parts) or "no domains")


def step_text(index: int, view: StepView, status: TenantStatus, members: int | None) -> str:
    tz = status.tenant.time_zone
    s = view.step
    lines = [
        f"{STATUS_EMOJI[view.status]} *{index}. {escape(s.title)}* — "
        f"{STATUS_WORD[view.status]}{_who_when(view, tz)}",
        escape(s.how),
    ]
    if view.status is Status.NOT_NEEDED:
        lines[1] = "Not needed: no on-premises Exchange."
    if view.note and view.status is Status.SKIPPED:
        lines.append(f"Reason: {escape(view.note)}")
    elif view.note and view.status is Status.DONE:
        lines.append(f"Note: {escape(view.note)}")
    if view.owner_id and view.status is Status.OPEN:
        lines.append(f"Owner: <@{view.owner_id}>")
    if s.id is StepId.DNS:
        lines.append(dns_evidence_text(view.evidence, tz))
    elif view.evidence and view.evidence.get("summary"):
        # other automated steps (the mailbox probe) put a one-line "summary" in their evidence
        lines.append(f"Last check: {escape(str(view.evidence['summary']))}")
    if s.id is StepId.PASSWORDS:
        count = len(status.acked_users)
        of = f" of {members}" if members is not None else ""
        lines.append(f"{count}{of} people confirmed their new password.")
    if view.status is Status.OPEN and (
        s.approval is Approval.REQUIRED or status.approval(s.id) is not None
    ):
        lines.append(gate_text(view, status))
    if s.id is StepId.PARTNER and status.tenant.partner_id:
        lines.append(f"Partner id: `{escape(status.tenant.partner_id)}`")
    return "\n".join(lines)


def _people(votes: Collection[Vote]) -> str:
    return ", ".join(f"<@{v.user_id}>" for v in votes)


def approval_state_text(step_id: StepId, request: ApprovalView | None, needed: int) -> str:
    """Where the step's approval stands, from its latest request."""
    ask = f"`/transition request {step_id}`"
    if request is None:
        return f"{needed} approval(s) needed — {ask}"
    if request.status is RequestStatus.APPROVED:
        return f"approved by {_people(request.approvals)}"
    if request.status is RequestStatus.REJECTED:
        rejected = [v for v in request.votes if v.decision is Decision.REJECT]
        return f"rejected by {_people(rejected)} — ask again with {ask}"
    got = len(request.approvals)
    by = f" (approved by {_people(request.approvals)})" if got else ""
    return (
        f"{got} of {request.approvals_needed} approvals{by}, requested by <@{request.requested_by}>"
    )


def gate_text(view: StepView, status: TenantStatus) -> str:
    """The step's gate as it stands: each required step, then the approvals."""
    s = view.step
    parts = []
    if s.requires:
        statuses = status.statuses
        parts.append(
            ", ".join(
                f"`{r}` " + ("done" if statuses.get(r) is Status.DONE else "*not done*")
                for r in s.requires
            )
        )
    request = status.approval(s.id)
    parts.append(approval_state_text(s.id, request, status.tenant.approvals_needed))
    label = "Gate" if s.approval is Approval.REQUIRED else "Approval (optional)"
    text = f"{label}: " + " · ".join(parts)
    if s.bot_only is not None and request is not None and request.status is RequestStatus.APPROVED:
        text += f". The bot marks it done when {s.bot_only.when}"
    return text + "."


def step_buttons(tenant_id: int, view: StepView) -> ActionsBlock | None:
    if view.status is Status.NOT_NEEDED:
        return None
    value = StepValue(tenant_id, view.step.id).pack()
    elements: list[ButtonElement] = []
    if view.status is Status.OPEN:
        if view.step.bot_only is None:  # dns and mx are marked done by the bot's check only
            elements.append(
                ButtonElement(
                    text="Done", action_id=TenantAction.STEP_DONE, value=value, style="primary"
                )
            )
        if view.step.approval is not Approval.REQUIRED:
            elements.append(
                ButtonElement(text="Skip", action_id=TenantAction.STEP_SKIP, value=value)
            )
    else:
        elements.append(
            ButtonElement(text="Reopen", action_id=TenantAction.STEP_REOPEN, value=value)
        )
    if view.step.id is StepId.DNS:
        elements.append(
            ButtonElement(
                text="Re-check DNS",
                action_id=TenantAction.DNS_RECHECK,
                value=TenantValue(tenant_id).pack(),
            )
        )
    if not elements:  # an open `mx`: no button of its own (`/transition request mx`)
        return None
    return ActionsBlock(block_id=f"step-{view.step.id}", elements=elements)


def runbook_blocks(status: TenantStatus, *, members: int | None = None) -> list[Block]:
    tenant = status.tenant
    domains = ", ".join(escape(d.display) for d in tenant.domains)
    nxt = status.next_step
    summary = f"*{status.progress}*" + (f" · next: *{escape(nxt.title)}*" if nxt else " · :tada:")
    blocks: list[Block] = [
        HeaderBlock(text=truncate(f"{tenant.name} — move to Microsoft 365", MAX_HEADER_TEXT)),
        section(summary),
        context(f"Domains: {domains} · time zone {escape(tenant.time_zone)}"),
        DividerBlock(),
    ]
    for index, view in enumerate(status.steps, start=1):
        block = section(step_text(index, view, status, members))
        if view.status is Status.OPEN:
            block.block_id = OWNER_BLOCK_PREFIX + StepValue(tenant.id, view.step.id).pack()
            block.accessory = UserSelectElement(
                action_id=TenantAction.ASSIGN,
                placeholder="Owner",
                initial_user=view.owner_id,
            )
        blocks.append(block)
        buttons = step_buttons(tenant.id, view)
        if buttons is not None:
            blocks.append(buttons)
    return blocks


def passwords_text(acked: Collection[str], members: Collection[str]) -> str:
    people = [m for m in members]
    done = sum(1 for m in people if m in acked)
    return f"{done} of {len(people)} channel members have changed their password."


def passwords_blocks(
    tenant_id: int, acked: Collection[str], members: Collection[str]
) -> list[Block]:
    return [
        section(
            ":key: *Passwords:* change your password at the Office 365 portal "
            "(https://portal.office.com), then click the button."
        ),
        ActionsBlock(
            block_id="passwords",
            elements=[
                ButtonElement(
                    text="I changed my password",
                    action_id=TenantAction.PASSWORDS_ACK,
                    value=TenantValue(tenant_id).pack(),
                    style="primary",
                )
            ],
        ),
        context(passwords_text(acked, members)),
    ]


def step_order_text() -> str:
    return ", ".join(f"`{s.id}`" for s in STEPS)
