"""Assembly of the Bolt app: configuration fixed here, listeners registered from handlers/.

Each handlers module has one ``register(app, runtime)``; add a module to ``HANDLER_MODULES`` to
plug in its commands words, actions, views and events. ``register_handlers`` is separate from
``build_app`` so a test can list what the app registers (tests/test_manifest.py).
"""

from __future__ import annotations

import importlib
import logging
from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.install import slack_auth
from bot.runtime import Runtime

# Order matters only for /transition words: the usage fallback goes after all of them.
HANDLER_MODULES: tuple[str, ...] = (
    "handlers.intake",  # a middleware: bounds every payload, drops Events API retries
    "handlers.commands",
    "handlers.tenants",
    "handlers.approvals",
    "handlers.reminders",
    "handlers.watch",  # /transition mailbox, OWA buttons, Graph credentials
    "handlers.home",  # app_home_opened: the workspace's tenants
    "handlers.actions",
    "handlers.installs",  # app_uninstalled, tokens_revoked
)


def register_handlers(app: Any, runtime: Runtime) -> None:
    """Register every handlers module's listeners on ``app`` (an AsyncApp, or a recorder)."""
    for name in HANDLER_MODULES:
        importlib.import_module(name).register(app, runtime)
    importlib.import_module("handlers.commands").register_fallback(app, runtime)


def build_app(runtime: Runtime) -> AsyncApp:
    """The Bolt app: one workspace's bot token, or OAuth install for many (bot.install).

    Requests are verified with the signing secret; listeners ack within the HTTP request and
    slow follow-ups continue after the response (``process_before_response=False``).
    """
    settings = runtime.settings
    app = AsyncApp(
        name="transition-bot",
        logger=logging.getLogger("transition_bot.slack"),
        signing_secret=settings.slack_signing_secret or "",
        **slack_auth(runtime),
        request_verification_enabled=True,
        process_before_response=False,
    )
    register_handlers(app, runtime)
    return app
