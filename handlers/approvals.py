"""`/transition request mx|lync`, the Approve / Reject buttons and the same typed
(`/transition approve mx`, `/transition reject mx`, for an approver who cannot reach the message).

The vote is committed before the ack (a lost follow-up must not lose a vote); the request
message is then edited in place with chat.update, so it always shows who decided and when.
"""

from __future__ import annotations

import contextlib

from slack_bolt.async_app import AsyncApp
from slack_bolt.kwargs_injection.async_args import AsyncArgs
from slack_sdk.errors import SlackApiError

from bot.app.runtime import Runtime
from bot.blocks.approvals import request_blocks, request_text
from bot.blocks.ids import TenantAction
from bot.blocks.values import ApprovalValue, ButtonValueError
from bot.core.approvals import Decision, RequestStatus, VoteOutcome
from bot.core.commands import split_command
from bot.core.runbook import APPROVABLE, STEP_BY_ID
from bot.services import approvals, tenants
from bot.services.common import Caller, Refusal
from bot.services.tenant_truth import audit_tenant
from handlers.commands import word
from handlers.guard import listener
from handlers.replies import (
    caller_from,
    message_of,
    post_message,
    refuse,
    tell,
    update_message,
    webapi,
)
from handlers.tenants import refresh_runbook

DECISIONS = {TenantAction.APPROVE: Decision.APPROVE, TenantAction.REJECT: Decision.REJECT}
TYPED = {"approve": Decision.APPROVE, "reject": Decision.REJECT}


def register(app: AsyncApp, runtime: Runtime) -> None:
    word(app, "request")(listener(runtime, on_request))
    word(app, *TYPED)(listener(runtime, on_typed_vote))
    for action in DECISIONS:
        app.action(action.value)(listener(runtime, on_vote))


async def on_request(args: AsyncArgs, runtime: Runtime) -> None:
    _, rest = split_command(str(args.body.get("text", "")))
    caller = caller_from(args.body)
    if not rest:
        steps = " or ".join(f"`{s}`" for s in APPROVABLE)
        await refuse(args, Refusal("Request approval for which step?", f"Type {steps}."))
        return
    step = rest.split()[0]
    blockers: tuple[str, ...] = ()
    needed = await approvals.audit_needed(runtime.db.uow(), caller, step)
    if needed is not None:  # MX: fresh audits say whether anything (MTA-STS) forbids the move
        await args.ack()
        audits = await audit_tenant(
            runtime.db.uow,
            needed.tenant_id,
            needed.domains,
            runtime.dns_config,
            runtime.domain_reader,
            runtime.secret_box,
        )
        blockers = tuple(b for a in audits for b in a.mx_blockers)
    request = await approvals.request_approval(runtime.db.uow(), caller, step, mx_blockers=blockers)
    status = await tenants.tenant_status(runtime.db.uow(), caller)
    if args.ack.response is None:
        await args.ack()
    tz = status.tenant.time_zone
    ts = await post_message(
        args, caller.channel_id, request_text(request), request_blocks(request, tz)
    )
    if ts:
        await approvals.attach_message(
            runtime.db.uow(), caller, request.tenant_id, request.id, caller.channel_id, ts
        )


async def on_vote(args: AsyncArgs, runtime: Runtime) -> None:
    action = args.action or {}
    caller = caller_from(args.body)
    try:
        clicked = ApprovalValue.unpack(str(action.get("value", "")))
    except ButtonValueError:
        await args.ack()
        return
    decision = DECISIONS[TenantAction(str(action.get("action_id")))]
    result = await approvals.vote(
        runtime.db.uow(), caller, clicked.tenant_id, clicked.request_id, decision
    )
    await args.ack()
    if result.outcome is VoteOutcome.DUPLICATE:
        await tell(args, "Your answer on this request is already recorded.")
        return
    await _show_vote(args, runtime, caller, result, message_of(args.body))


async def on_typed_vote(args: AsyncArgs, runtime: Runtime) -> None:
    word, rest = split_command(str(args.body.get("text", "")))
    caller = caller_from(args.body)
    if not rest:
        steps = " or ".join(f"`{s}`" for s in APPROVABLE)
        await refuse(args, Refusal(f"{word.capitalize()} which request?", f"Type {steps}."))
        return
    decision = TYPED[word]
    tenant_id, request_id = await approvals.open_request_here(
        runtime.db.uow(), caller, rest.split()[0].lower()
    )
    result = await approvals.vote(runtime.db.uow(), caller, tenant_id, request_id, decision)
    request = result.request
    if result.outcome is VoteOutcome.DUPLICATE:
        await args.ack(text="Your answer on this request is already recorded.")
        return
    verb = "approved" if decision is Decision.APPROVE else "rejected"
    title = STEP_BY_ID[request.step_id].title
    await args.ack(
        text=f"You {verb} *{title}* ({len(request.approvals)} of "
        f"{request.approvals_needed} approvals); the request message shows it."
    )
    await _show_vote(args, runtime, caller, result, None)


async def _show_vote(
    args: AsyncArgs,
    runtime: Runtime,
    caller: Caller,
    result: approvals.VoteView,
    where: tuple[str, str] | None,
) -> None:
    """Edit the request message in place; when the vote decided it, say so in its thread and
    refresh the runbook."""
    request = result.request
    tenant_id = request.tenant_id
    status = await tenants.tenant_status_by_id(runtime.db.uow(), tenant_id)
    tz = status.tenant.time_zone if status else "UTC"
    if request.channel_id and request.message_ts:
        where = (request.channel_id, request.message_ts)
    await update_message(args, where, request_text(request), request_blocks(request, tz))
    if result.closed_now and status is not None:
        word = "approved" if request.status is RequestStatus.APPROVED else "rejected"
        if where is not None:  # the vote stands whatever Slack says; the note is a courtesy
            with contextlib.suppress(SlackApiError):
                await webapi(args).post(
                    where[0],
                    f"The request is {word} (<@{caller.user_id}> decided it).",
                    thread_ts=where[1],
                )
        await refresh_runbook(args, runtime, status)
