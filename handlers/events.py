"""Events API listeners. Bolt acks events itself before the listener runs."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp
from slack_bolt.kwargs_injection.async_args import AsyncArgs

from bot.blocks.home import home_view
from bot.runtime import Runtime
from handlers.guard import listener


def register(app: AsyncApp, runtime: Runtime) -> None:
    app.event("app_home_opened")(listener(runtime, on_app_home_opened))


async def on_app_home_opened(args: AsyncArgs, runtime: Runtime) -> None:
    event = args.event or {}
    if event.get("tab", "home") != "home":
        return
    await args.client.views_publish(user_id=str(event["user"]), view=home_view())
