"""Button clicks. Re-check: re-run the audit and edit the report in place (chat.update by the
message's channel and ts), so a second click only refreshes it again."""

from __future__ import annotations

import logging

from slack_bolt.async_app import AsyncApp
from slack_bolt.kwargs_injection.async_args import AsyncArgs
from slack_sdk.errors import SlackApiError

from bot.blocks.check import check_report, recheck_failed_text, report_text
from bot.blocks.ids import ActionId
from bot.domain import DomainError, parse_domain
from bot.runtime import Runtime
from bot.services.tenant_truth import audit_here
from handlers.guard import listener
from handlers.replies import caller_from

log = logging.getLogger(__name__)

# chat.update errors after which the message is replaced through response_url instead
NOT_UPDATABLE = frozenset(
    {"not_in_channel", "channel_not_found", "cant_update_message", "message_not_found"}
)


def register(app: AsyncApp, runtime: Runtime) -> None:
    app.action(ActionId.RECHECK.value)(listener(runtime, on_recheck))


async def on_recheck(args: AsyncArgs, runtime: Runtime) -> None:
    await args.ack()
    action = args.action or {}
    try:
        domain = parse_domain(str(action.get("value", "")))
    except DomainError as exc:
        await args.respond(
            text=f":warning: {exc.message}", response_type="ephemeral", replace_original=False
        )
        return
    audit = await audit_here(  # Re-check reads the tenant's values from Graph again
        runtime.db.uow if runtime.database is not None else None,
        caller_from(args.body),
        domain.ascii,
        runtime.dns_config,
        runtime.domain_reader,
        runtime.secret_box,
        refresh=True,
    )
    if audit.error is not None:
        await args.respond(
            text=recheck_failed_text(audit), response_type="ephemeral", replace_original=False
        )
        return

    container = args.body.get("container") or {}
    channel = container.get("channel_id") or (args.body.get("channel") or {}).get("id")
    ts = container.get("message_ts") or (args.body.get("message") or {}).get("ts")
    if channel and ts and not container.get("is_ephemeral"):
        try:
            await args.client.chat_update(
                channel=channel, ts=ts, text=report_text(audit), blocks=check_report(audit)
            )
            return
        except SlackApiError as exc:
            if exc.response.get("error") not in NOT_UPDATABLE:
                raise
            log.info(
                "chat.update refused (%s); replacing via response_url", exc.response.get("error")
            )
    await args.respond(text=report_text(audit), blocks=check_report(audit), replace_original=True)
