"""Install life-cycle events: ``app_uninstalled`` and ``tokens_revoked`` stop a workspace's
background work at once (bot.slack.workspaces). Bolt acks events before the listener runs and does
not look up a token for these two (the workspace's token is gone)."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp
from slack_bolt.kwargs_injection.async_args import AsyncArgs

from bot.app.runtime import Runtime
from bot.slack.workspaces import workspace_uninstalled
from handlers.guard import listener


def register(app: AsyncApp, runtime: Runtime) -> None:
    app.event("app_uninstalled")(listener(runtime, on_app_uninstalled))
    app.event("tokens_revoked")(listener(runtime, on_tokens_revoked))


async def on_app_uninstalled(args: AsyncArgs, runtime: Runtime) -> None:
    context = args.context
    await workspace_uninstalled(runtime, context.team_id, context.enterprise_id)


async def on_tokens_revoked(args: AsyncArgs, runtime: Runtime) -> None:
    # Only the bot token matters: the app asks for no user scopes.
    tokens = (args.event or {}).get("tokens") or {}
    if tokens.get("bot"):
        context = args.context
        await workspace_uninstalled(runtime, context.team_id, context.enterprise_id)
