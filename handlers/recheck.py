"""Button clicks. Re-check: re-run the audit and edit the report in place (chat.update by the
message's channel and ts), so a second click only refreshes it again."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp
from slack_bolt.kwargs_injection.async_args import AsyncArgs

from bot.app.runtime import Runtime
from bot.blocks.check import check_report, recheck_failed_text, report_text
from bot.blocks.ids import ActionId
from bot.core.domain import DomainError, parse_domain
from bot.services.tenant_truth import audit_here
from handlers.guard import listener
from handlers.replies import caller_from, message_of, update_message


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

    if await update_message(args, message_of(args.body), report_text(audit), check_report(audit)):
        return
    await args.respond(text=report_text(audit), blocks=check_report(audit), replace_original=True)
