"""`/transition start | status | done | skip | reopen | passwords | history`, the start and
skip modals, and the runbook's buttons.

Thin: parse the payload, call a service (which commits before the ack), ack or refuse, then do
the slow follow-ups (posting, chat.update, DNS) after the ack.
"""

from __future__ import annotations

import logging

from slack_bolt.async_app import AsyncApp
from slack_bolt.kwargs_injection.async_args import AsyncArgs
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import Block

from bot.app.runtime import Runtime
from bot.blocks.ids import OWNER_BLOCK_PREFIX, TenantAction, ViewId
from bot.blocks.modals import (
    REASON,
    read_skip_reason,
    read_start_form,
    skip_modal,
    start_modal,
)
from bot.blocks.runbook import passwords_blocks, passwords_text, runbook_blocks, status_text
from bot.blocks.tenants import history_blocks, history_text
from bot.blocks.values import ButtonValueError, StepValue, TenantValue
from bot.core.commands import split_command
from bot.core.runbook import STEP_BY_ID, Action
from bot.core.tenant_form import Field, FormErrors, validate
from bot.services import acks, messages, source_choice, steps, tenants
from bot.services.common import Caller, Refusal
from bot.services.history import history
from bot.services.tenant_truth import audit_tenant
from bot.services.views import TenantStatus
from handlers.commands import word
from handlers.guard import listener
from handlers.replies import (
    caller_from,
    channel_members,
    message_of,
    metadata,
    post_message,
    refuse,
    tell,
    update_message,
)

log = logging.getLogger(__name__)

WORD_ACTIONS = {"done": Action.DONE, "skip": Action.SKIP, "reopen": Action.REOPEN}
BUTTON_ACTIONS = {TenantAction.STEP_DONE: Action.DONE, TenantAction.STEP_REOPEN: Action.REOPEN}


def register(app: AsyncApp, runtime: Runtime) -> None:
    word(app, "start")(listener(runtime, on_start))
    word(app, "status")(listener(runtime, on_status))
    word(app, *WORD_ACTIONS)(listener(runtime, on_step_word))
    word(app, "passwords")(listener(runtime, on_passwords))
    word(app, "history")(listener(runtime, on_history))
    app.view(ViewId.START.value)(listener(runtime, on_start_submit))
    app.view(ViewId.SKIP.value)(listener(runtime, on_skip_submit))
    for action in BUTTON_ACTIONS:
        app.action(action.value)(listener(runtime, on_step_button))
    app.action(TenantAction.STEP_SKIP.value)(listener(runtime, on_skip_button))
    app.action(TenantAction.DNS_RECHECK.value)(listener(runtime, on_dns_recheck))
    app.action(TenantAction.PASSWORDS_ACK.value)(listener(runtime, on_passwords_ack))
    app.action(TenantAction.ASSIGN.value)(listener(runtime, on_assign))


# --- start ---------------------------------------------------------------------------------


async def on_start(args: AsyncArgs, runtime: Runtime) -> None:
    body = args.body
    _, domains = split_command(str(body.get("text", "")))
    caller = caller_from(body)
    # one indexed read: well inside the trigger_id's 3 s, and no modal to take back
    await tenants.check_can_start(runtime.db.uow(), caller)
    await args.ack()
    # The trigger_id lives 3 s and works once: the modal opens before anything slow.
    opened = await args.client.views_open(
        trigger_id=str(body.get("trigger_id", "")), view=start_modal(caller.channel_id, domains)
    )
    if not domains:
        return
    # then what the domain's mail comes from: another provider, named by its MX host, is
    # offered as a source too (same block ids: what was typed meanwhile stays)
    detected = await source_choice.detected_other(domains, runtime.dns_config)
    view = opened.get("view") or {}
    if detected is None or not view.get("id"):
        return
    try:
        await args.client.views_update(
            view_id=str(view["id"]),
            hash=view.get("hash"),
            view=start_modal(caller.channel_id, domains, detected=detected),
        )
    except SlackApiError as exc:  # submitted or closed meanwhile: the known sources stand
        log.info("start modal not updated with the detected source: %s", exc.response.get("error"))


async def on_start_submit(args: AsyncArgs, runtime: Runtime) -> None:
    view = args.body.get("view") or {}
    channel = str(metadata(view).get("channel") or "")
    caller = caller_from(args.body, channel_id=channel)
    try:
        valid = validate(read_start_form((view.get("state") or {}).get("values") or {}))
    except FormErrors as exc:
        await args.ack(response_action="errors", errors=exc.errors)
        return
    try:
        status = await tenants.start_tenant(runtime.db.uow(), caller, valid)
    except Refusal as refusal:
        await args.ack(response_action="errors", errors={Field.NAME: refusal.message})
        return
    await args.ack()
    # After the ack: the tenant is committed; post its runbook and passwords message.
    await post_runbook(args, runtime, status)
    await post_passwords(args, runtime, status)
    await run_dns_check(args, runtime, caller, status)


async def post_runbook(args: AsyncArgs, runtime: Runtime, status: TenantStatus) -> None:
    channel = status.tenant.channel_id
    blocks = await _runbook_blocks(args, status, channel)
    ts = await post_message(args, channel, status_text(status), blocks)
    if ts:
        await messages.remember_message(
            runtime.db.uow(), status.tenant.id, messages.RUNBOOK, channel, ts
        )


async def _runbook_blocks(args: AsyncArgs, status: TenantStatus, channel: str) -> list[Block]:
    """The runbook, with the channel's member count for the passwords line (every render)."""
    members = await channel_members(args, channel)
    return runbook_blocks(status, members=None if members is None else len(members))


async def refresh_runbook(args: AsyncArgs, runtime: Runtime, status: TenantStatus) -> None:
    """Edit the tenant's last posted runbook message in place, if there is one."""
    ref = await messages.find_message(runtime.db.uow(), status.tenant.id, messages.RUNBOOK)
    if ref is None:
        return
    blocks = await _runbook_blocks(args, status, ref.channel_id)
    await update_message(args, (ref.channel_id, ref.ts), status_text(status), blocks)


async def post_passwords(args: AsyncArgs, runtime: Runtime, status: TenantStatus) -> None:
    channel = status.tenant.channel_id
    members = await channel_members(args, channel) or []
    blocks = passwords_blocks(status.tenant.id, status.acked_users, members)
    ts = await post_message(args, channel, passwords_text(status.acked_users, members), blocks)
    if ts:
        await messages.remember_message(
            runtime.db.uow(), status.tenant.id, messages.PASSWORDS, channel, ts
        )


# --- status, words, history ----------------------------------------------------------------


async def on_status(args: AsyncArgs, runtime: Runtime) -> None:
    status = await tenants.tenant_status(runtime.db.uow(), caller_from(args.body))
    await args.ack()
    await post_runbook(args, runtime, status)


async def on_step_word(args: AsyncArgs, runtime: Runtime) -> None:
    """`/transition done software`, `skip lync no Lync here`, `reopen dns`."""
    word, rest = split_command(str(args.body.get("text", "")))
    step_text, _, note = rest.partition(" ")
    if not step_text:
        await refuse(
            args,
            Refusal(
                f"Which step? Type `/transition {word} <step>`.",
                "The steps are: " + ", ".join(f"`{s}`" for s in STEP_BY_ID) + ".",
            ),
        )
        return
    change = await steps.change_step(
        runtime.db.uow(),
        caller_from(args.body),
        step_text.lower(),
        WORD_ACTIONS[word],
        note=note.strip(),
    )
    title = STEP_BY_ID[change.step_id].title
    await args.ack(
        text=f"*{title}*: {change.after.value.replace('_', ' ')}. ({change.status.progress})"
    )
    await refresh_runbook(args, runtime, change.status)


async def on_passwords(args: AsyncArgs, runtime: Runtime) -> None:
    status = await tenants.tenant_status(runtime.db.uow(), caller_from(args.body))
    await args.ack()
    await post_passwords(args, runtime, status)


async def on_history(args: AsyncArgs, runtime: Runtime) -> None:
    caller = caller_from(args.body)
    status = await tenants.tenant_status(runtime.db.uow(), caller)
    entries = await history(runtime.db.uow(), caller)
    tenant = status.tenant
    await args.ack(
        text=history_text(tenant.name, entries),
        blocks=history_blocks(tenant.name, entries, tenant.time_zone),
    )


# --- buttons -------------------------------------------------------------------------------


async def on_step_button(args: AsyncArgs, runtime: Runtime) -> None:
    action = args.action or {}
    try:
        step_id = StepValue.unpack(str(action.get("value", ""))).step_id
    except ButtonValueError:
        await args.ack()
        await tell(
            args, ":warning: That button is from an older version; use `/transition status`."
        )
        return
    kind = BUTTON_ACTIONS[TenantAction(str(action.get("action_id")))]
    change = await steps.change_step(runtime.db.uow(), caller_from(args.body), step_id, kind)
    await args.ack()
    await _show(args, runtime, change.status)


async def _show(args: AsyncArgs, runtime: Runtime, status: TenantStatus) -> None:
    """Update the clicked runbook message in place (or the stored one)."""
    where = message_of(args.body)
    blocks = await _runbook_blocks(args, status, status.tenant.channel_id)
    if not await update_message(args, where, status_text(status), blocks):
        await refresh_runbook(args, runtime, status)


async def on_assign(args: AsyncArgs, runtime: Runtime) -> None:
    """The owner picker beside a step: its block_id names the step."""
    action = args.action or {}
    try:
        block_id = str(action.get("block_id", "")).removeprefix(OWNER_BLOCK_PREFIX)
        step_id = StepValue.unpack(block_id).step_id
    except ButtonValueError:
        await args.ack()
        return
    owner = action.get("selected_user") or None
    change = await steps.assign_owner(runtime.db.uow(), caller_from(args.body), step_id, owner)
    await args.ack()
    await _show(args, runtime, change.status)


async def on_skip_button(args: AsyncArgs, runtime: Runtime) -> None:
    action = args.action or {}
    try:
        clicked = StepValue.unpack(str(action.get("value", "")))
    except ButtonValueError:
        await args.ack()
        return
    # refused before the modal: nobody types a reason for a skip that cannot happen
    caller = caller_from(args.body)
    await steps.check_can_skip(runtime.db.uow(), caller, clicked.tenant_id, clicked.step_id)
    await args.ack()
    where = message_of(args.body) or ("", "")
    channel = where[0] or caller.channel_id
    await args.client.views_open(
        trigger_id=str(args.body.get("trigger_id", "")),
        view=skip_modal(clicked.tenant_id, clicked.step_id, channel, where[1]),
    )


async def on_skip_submit(args: AsyncArgs, runtime: Runtime) -> None:
    view = args.body.get("view") or {}
    meta = metadata(view)
    caller = caller_from(args.body, channel_id=str(meta.get("channel") or ""))
    reason = read_skip_reason((view.get("state") or {}).get("values") or {})
    try:
        change = await steps.skip_step(runtime.db.uow(), caller, str(meta.get("step")), reason)
    except Refusal as refusal:
        await args.ack(response_action="errors", errors={REASON: refusal.message})
        return
    await args.ack()
    status = change.status
    where = (str(meta.get("channel")), str(meta.get("ts"))) if meta.get("ts") else None
    blocks = await _runbook_blocks(args, status, status.tenant.channel_id)  # with the count
    if not await update_message(args, where, status_text(status), blocks):
        await refresh_runbook(args, runtime, status)


async def on_dns_recheck(args: AsyncArgs, runtime: Runtime) -> None:
    caller = caller_from(args.body)
    status = await steps.tenant_for_dns_check(runtime.db.uow(), caller)
    await args.ack()
    await run_dns_check(args, runtime, caller, status)


async def run_dns_check(
    args: AsyncArgs, runtime: Runtime, caller: Caller, status: TenantStatus
) -> None:
    """Audit every domain of the tenant at once; the `dns` step completes when all pass."""
    audits = await audit_tenant(  # the runbook's Re-check: the tenant's values read again
        runtime.db.uow,
        status.tenant.id,
        [d.ascii for d in status.tenant.domains],
        runtime.dns_config,
        runtime.domain_reader,
        runtime.secret_box,
        refresh=True,
    )
    change = await steps.record_dns_check(runtime.db.uow(), status.tenant.id, audits)
    if change is None:
        return
    if change.before is not change.after:
        log.info("dns step of tenant %s passed", status.tenant.id)
    await refresh_runbook(args, runtime, change.status)


async def on_passwords_ack(args: AsyncArgs, runtime: Runtime) -> None:
    action = args.action or {}
    try:
        tenant_id = TenantValue.unpack(str(action.get("value", ""))).tenant_id
        tally = await acks.acknowledge(runtime.db.uow(), caller_from(args.body), tenant_id)
    except ValueError:
        await args.ack()
        return
    await args.ack()
    channel = (message_of(args.body) or (caller_from(args.body).channel_id, ""))[0]
    members = await channel_members(args, channel) or []
    blocks = passwords_blocks(tally.tenant_id, tally.acked, members)
    await update_message(args, message_of(args.body), passwords_text(tally.acked, members), blocks)
