"""What listeners and jobs need at run time, fixed once at assembly.

``Runtime`` is built by an entry point (``serve``, ``socket``, the test fixtures) and handed to
``bot.app.assembly.build_app`` and to each handlers module's ``register(app, runtime)``. Nothing
here connects at import; a new dependency (the database) is a new field with a default, filled
in where the entry point starts it. What runs while the server runs (the scheduler, the watch)
is started with it and kept in the aiohttp application instead (bot.jobs.background).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.dnscheck.model import DnsConfig
from bot.ops.config import Settings
from bot.ops.tls import ssl_context
from bot.slack.api_metrics import ApiErrorCounter
from bot.slack.held_events import HeldEvents
from storage.database import Database

if TYPE_CHECKING:
    from bot.mailbox.graph import DomainReader
    from bot.ops.secrets import SecretBox
    from bot.slack.install import Installations

DEFAULT_SLACK_API_URL = AsyncWebClient.BASE_URL


def build_web_client(settings: Settings, token: str | None = None) -> AsyncWebClient:
    """A Web API client that retries what Slack asks to retry: connection errors, 429 (after
    ``Retry-After``) and 5xx. Every client the bot makes (app, jobs) comes from here."""
    return AsyncWebClient(
        token=token if token is not None else settings.slack_bot_token,
        base_url=settings.slack_api_url or DEFAULT_SLACK_API_URL,
        ssl=ssl_context(settings.ca_bundle),
        retry_handlers=[
            ApiErrorCounter(),  # first: sees every attempt (bot.slack.api_metrics)
            AsyncConnectionErrorRetryHandler(),
            AsyncRateLimitErrorRetryHandler(max_retry_count=2),
            AsyncServerErrorRetryHandler(max_retry_count=2),
        ],
    )


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    # Built by bot.app.server.init (connects to nothing until the server starts it).
    database: Database | None = None

    @property
    def dns_config(self) -> DnsConfig:
        return self.settings.dns

    @property
    def db(self) -> Database:
        if self.database is None:
            raise RuntimeError("this Runtime has no database (build it with bot.app.server.init)")
        return self.database

    def web_client(self, token: str | None = None) -> AsyncWebClient:
        """A fresh retrying client for background work (listeners use Bolt's ``client``)."""
        return build_web_client(self.settings, token)

    @cached_property
    def held_events(self) -> HeldEvents:
        """Events acked while the database was away, to record once it is back."""
        return HeldEvents()

    @cached_property
    def installations(self) -> Installations | None:
        """OAuth's stores and token rotator on this runtime's database; None in single-token
        mode (one per Runtime: the rotator runs one refresh per workspace at a time in it)."""
        from bot.slack.install import build_installations

        if not self.settings.oauth_enabled:
            return None
        return build_installations(self.settings, self.db)

    @cached_property
    def domain_reader(self) -> DomainReader:
        """Reads tenants' domain records from Graph (one msal token cache per process)."""
        from bot.mailbox.graph import DomainReader, GraphConfig

        settings = self.settings
        return DomainReader(
            GraphConfig(
                graph_url=settings.graph_url,
                login_url=settings.login_url,
                ca_bundle=settings.ca_bundle,
            )
        )

    @cached_property
    def secret_box(self) -> SecretBox | None:
        """Opens stored Graph secrets; None when TRANSITION_SECRET_KEY is unset or invalid."""
        from bot.ops.config import ConfigError
        from bot.ops.logs import register_secret
        from bot.ops.secrets import SecretBox

        if not self.settings.secret_key:
            return None
        register_secret(self.settings.secret_key)
        try:
            return SecretBox(self.settings.secret_key)
        except ConfigError:
            return None
