"""Assembly of the Bolt app: configuration fixed here, listeners registered from handlers/.

Each handlers module has one ``register(app, runtime)``; add the module to ``HANDLER_MODULES`` to
plug in its commands words, actions, views and events. ``register_handlers`` is separate from
``build_app`` so a test can list what the app registers (tests/test_manifest.py).
"""

from __future__ import annotations

import logging
from types import ModuleType
from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.app.runtime import Runtime
from bot.slack.install import slack_auth
from handlers import (
    approvals,
    commands,
    home,
    installs,
    intake,
    mailbox,
    recheck,
    reminders,
    tenants,
    workspace_gate,
)

HandlersModule = ModuleType  # each has register(app, runtime)

# Order matters only for /transition words: the usage fallback goes after all of them.
HANDLER_MODULES: tuple[HandlersModule, ...] = (
    intake,  # a middleware: bounds every payload, drops Events API retries
    workspace_gate,  # a middleware: requests of other workspaces are refused
    commands,
    tenants,
    approvals,
    reminders,
    mailbox,  # /transition mailbox, OWA buttons, Graph credentials
    home,  # app_home_opened: the workspace's tenants
    recheck,
    installs,  # app_uninstalled, tokens_revoked
)


def register_handlers(app: Any, runtime: Runtime) -> None:
    """Register every handlers module's listeners on ``app`` (an AsyncApp, or a recorder)."""
    for module in HANDLER_MODULES:
        module.register(app, runtime)
    commands.register_fallback(app, runtime)


def build_app(runtime: Runtime) -> AsyncApp:
    """The Bolt app: one workspace's bot token, or OAuth install for many (bot.slack.install).

    Requests are verified with the signing secret; listeners ack within the HTTP request and
    slow follow-ups continue after the response (``process_before_response=False``).
    """
    settings = runtime.settings
    bolt_logger = logging.getLogger("transition_bot.slack")
    # Bolt formats a debug line per middleware and per request unless this logger's own level
    # (``logger.level``, not the effective one) is above DEBUG.
    bolt_logger.setLevel(settings.log_level)
    app = AsyncApp(
        name="transition-bot",
        logger=bolt_logger,
        signing_secret=settings.slack_signing_secret or "",
        **slack_auth(runtime),
        request_verification_enabled=True,
        process_before_response=False,
    )
    register_handlers(app, runtime)
    return app
