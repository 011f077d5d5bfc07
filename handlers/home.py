"""App Home: every tenant of the workspace with its progress and next step."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp
from slack_bolt.kwargs_injection.async_args import AsyncArgs

from bot.app.runtime import Runtime
from bot.blocks.tenants import home_tenants_view
from bot.services.common import Caller
from bot.services.tenants import list_tenants
from handlers.guard import listener


def register(app: AsyncApp, runtime: Runtime) -> None:
    app.event("app_home_opened")(listener(runtime, on_app_home_opened))


async def on_app_home_opened(args: AsyncArgs, runtime: Runtime) -> None:
    event = args.event or {}
    if event.get("tab", "home") != "home":
        return
    body = args.body
    team = str(body.get("team_id") or event.get("view", {}).get("team_id") or "")
    enterprise = str(body.get("enterprise_id") or "")
    user = str(event.get("user", ""))
    summaries = await list_tenants(
        runtime.db.uow(), Caller(team_id=team, user_id=user, enterprise_id=enterprise)
    )
    await args.client.views_publish(user_id=user, view=home_tenants_view(summaries))
