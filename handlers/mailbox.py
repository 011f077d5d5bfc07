"""`/transition mailbox`, the OWA buttons and the Graph credentials modal.

Thin: parse, call bot.services.mailbox (which commits before the ack), ack or refuse, then
edit the message in place after the ack.
"""

from __future__ import annotations

import logging

from slack_bolt.async_app import AsyncApp
from slack_bolt.kwargs_injection.async_args import AsyncArgs

from bot.app.runtime import Runtime
from bot.blocks.ids import MailboxAction, ViewId
from bot.blocks.mailbox import (
    graph_modal,
    mailbox_blocks,
    mailbox_text,
    read_graph_values,
)
from bot.blocks.values import TenantValue
from bot.mailbox.form import GraphField, GraphFormErrors, validate_graph_form
from bot.ops.config import ConfigError
from bot.ops.logs import register_secret
from bot.ops.secrets import SecretBox
from bot.services import mailbox
from bot.services.common import Refusal
from handlers.commands import word
from handlers.guard import listener
from handlers.replies import (
    caller_from,
    message_of,
    metadata,
    post_message,
    refuse,
    update_message,
    webapi,
)
from handlers.tenants import refresh_runbook

log = logging.getLogger(__name__)


def register(app: AsyncApp, runtime: Runtime) -> None:
    word(app, "mailbox", "owa")(listener(runtime, on_mailbox))
    app.action(MailboxAction.OPEN_OWA.value)(listener(runtime, on_open_owa))
    app.action(MailboxAction.SEEN.value)(listener(runtime, on_seen))
    app.action(MailboxAction.SETUP.value)(listener(runtime, on_setup))
    app.view(ViewId.GRAPH.value)(listener(runtime, on_graph_submit))


async def on_mailbox(args: AsyncArgs, runtime: Runtime) -> None:
    caller = caller_from(args.body)
    setup = await mailbox.mailbox_setup(runtime.db.uow(), caller)
    await args.ack()
    await post_message(args, caller.channel_id, mailbox_text(setup), mailbox_blocks(setup))


async def on_open_owa(args: AsyncArgs, runtime: Runtime) -> None:
    await args.ack()  # a link button: Slack opens the URL; the click only needs its ack


async def on_seen(args: AsyncArgs, runtime: Runtime) -> None:
    caller = caller_from(args.body)
    change, setup = await mailbox.confirm_mail_seen(runtime.db.uow(), caller)
    await args.ack()
    log.info("verify-data done by %s (tenant %s)", caller.user_id, setup.tenant_id)
    await update_message(args, message_of(args.body), mailbox_text(setup), mailbox_blocks(setup))
    await refresh_runbook(args, runtime, change.status)


async def on_setup(args: AsyncArgs, runtime: Runtime) -> None:
    # Ack first, whatever users.info does; then a bounded admin check, so the trigger_id is
    # still fresh for views.open (a refusal goes to the clicker ephemerally).
    await args.ack()
    caller = caller_from(args.body)
    admin = await webapi(args).is_workspace_admin(caller.user_id)
    if not admin:
        await refuse(args, mailbox.admin_unknown() if admin is None else mailbox.not_admin())
        return
    tenant_id = TenantValue.unpack(str((args.action or {}).get("value") or "0")).tenant_id
    await args.client.views_open(
        trigger_id=str(args.body.get("trigger_id", "")),
        view=graph_modal(tenant_id, caller.channel_id),
    )


async def on_graph_submit(args: AsyncArgs, runtime: Runtime) -> None:
    view = args.body.get("view") or {}
    data = metadata(view)
    caller = caller_from(args.body, channel_id=str(data.get("channel") or ""))
    values = read_graph_values((view.get("state") or {}).get("values") or {})
    register_secret(values[GraphField.SECRET])  # whatever gets logged from here on, not this
    try:
        form = validate_graph_form(**values)
    except GraphFormErrors as exc:
        await args.ack(response_action="errors", errors=exc.errors)
        return
    try:
        box = SecretBox(runtime.settings.secret_key)
    except ConfigError:
        await args.ack(
            response_action="errors",
            errors={
                GraphField.SECRET: "The bot cannot store secrets yet: its operator must set "
                "TRANSITION_SECRET_KEY (`transition-bot genkey`). Nothing was saved."
            },
        )
        return
    admin = await webapi(args).is_workspace_admin(caller.user_id)  # bounded: the submission's ack
    try:
        if admin is None:
            raise mailbox.admin_unknown()
        setup = await mailbox.save_graph_credentials(
            runtime.db.uow(),
            caller,
            int(data.get("tenant") or 0),
            form,
            box,
            is_admin=admin,
        )
    except Refusal as refusal:
        await args.ack(response_action="errors", errors={GraphField.AZURE_TENANT: refusal.message})
        return
    await args.ack()
    if caller.channel_id:
        await post_message(args, caller.channel_id, mailbox_text(setup), mailbox_blocks(setup))
