"""OAuth install ("Add to Slack") for many workspaces: Bolt's own OAuth flow on our database.

With ``SLACK_CLIENT_ID`` / ``SLACK_CLIENT_SECRET`` (``settings.oauth_enabled``) the bot serves
every workspace that installed it: ``GET /slack/install`` starts Bolt's ``AsyncOAuthFlow``,
``GET /slack/oauth_redirect`` finishes it (``oauth.v2.access``) and saves the installation in
``slack_installations`` / ``slack_bots`` (storage.installations, tokens sealed with
``TRANSITION_SECRET_KEY``); Bolt's authorize reads the token for each request from there.

Token rotation has one code path, ``LockedTokenRotator``: Bolt's authorize calls it per request
and the background jobs call it through ``Installations.bot_token`` (bot.slack.workspaces), so an
expiring token is refreshed by whoever needs it first, under a row lock, once.

Every client made here follows ``SLACK_API_URL`` (tests point it at the local fake).
"""

from __future__ import annotations

import dataclasses
import logging
import time
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization.async_authorize import AsyncInstallationStoreAuthorize
from slack_bolt.oauth.async_oauth_flow import AsyncOAuthFlow
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.errors import SlackTokenRotationError
from slack_sdk.oauth.installation_store import Installation
from slack_sdk.oauth.token_rotation.async_rotator import AsyncTokenRotator
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app.runtime import Runtime, build_web_client
from bot.ops.config import ConfigError, Settings
from bot.ops.logs import register_secret
from bot.ops.secrets import SecretBox, SecretDecryptionError
from storage.database import Database, answered_within
from storage.installations import InstallationStore, SignedStateStore
from storage.uow import UnitOfWork

log = logging.getLogger(__name__)

INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
# The bot scopes asked for at install: manifest.yml's oauth_config.scopes.bot
# (tests/oauth/test_install.py keeps the two equal).
BOT_SCOPES: tuple[str, ...] = (
    "commands",
    "chat:write",
    "chat:write.public",
    "users:read",
    "channels:read",
    "groups:read",
    "channels:history",
    "groups:history",
)
# What a user of a workspace without a (valid) installation sees instead of any answer.
NOT_INSTALLED = (
    ":warning: Transition Bot is not installed in this workspace (or was removed), so it "
    "cannot act here. Ask a workspace admin to add it again through your bot's "
    "`/slack/install` page; this workspace's transitions are kept meanwhile."
)
# Refresh a bot token this long before it expires (Slack's rotating tokens live 12 hours).
REFRESH_MINUTES = 120


def api_client(settings: Settings) -> AsyncWebClient:
    """A retrying client with no token, on ``SLACK_API_URL`` (OAuth calls, Bolt's app client)."""
    return build_web_client(dataclasses.replace(settings, slack_bot_token=None))


def _expiring(expires_at: int | None, minutes: int) -> bool:
    return expires_at is not None and expires_at <= time.time() + minutes * 60


class LockedTokenRotator(AsyncTokenRotator):
    """slack-sdk's rotator, serialised across replicas by a row lock on the installation.

    Bolt calls ``perform_token_rotation`` with the installation it read; if the token is
    expiring, the newest installation is read again under the lock: when another replica
    refreshed it meanwhile that one is used, otherwise it is refreshed and saved before the
    lock is released. Only bot tokens are rotated (the app asks for no user scopes).
    """

    def __init__(
        self, store: InstallationStore, client_id: str, client_secret: str, client: AsyncWebClient
    ) -> None:
        super().__init__(client_id=client_id, client_secret=client_secret, client=client)
        self.store = store

    async def perform_token_rotation(
        self, *, installation: Installation, minutes_before_expiration: int = REFRESH_MINUTES
    ) -> Installation | None:
        if not _expiring(installation.bot_token_expires_at, minutes_before_expiration):
            return None
        return await self.refresh(
            team_id=installation.team_id,
            enterprise_id=installation.enterprise_id,
            minutes_before_expiration=minutes_before_expiration,
        )

    async def refresh(
        self,
        *,
        team_id: str | None,
        enterprise_id: str | None,
        minutes_before_expiration: int = REFRESH_MINUTES,
    ) -> Installation | None:
        """The newest installation with a fresh bot token (refreshed here if still needed)."""
        async with self.store.locked_latest(team_id=team_id, enterprise_id=enterprise_id) as lock:
            if lock is None:
                return None
            current = lock.installation
            if not _expiring(current.bot_token_expires_at, minutes_before_expiration):
                return current  # another replica (or request) refreshed it first
            bot = await self.perform_bot_token_rotation(
                bot=current.to_bot(), minutes_before_expiration=minutes_before_expiration
            )
            if bot is None:
                return None
            refreshed = Installation(**current.to_dict_for_copying())
            refreshed.bot_token = bot.bot_token
            refreshed.bot_refresh_token = bot.bot_refresh_token
            refreshed.bot_token_expires_at = bot.bot_token_expires_at
            await lock.save_bot_token(refreshed)
            register_secret(refreshed.bot_token)
            register_secret(refreshed.bot_refresh_token)
            log.info("refreshed the bot token of workspace %s", team_id or enterprise_id)
            return refreshed


class RequestInstallationStore(InstallationStore):
    """The store as Bolt's authorize reads it, before any listener runs on every request:
    within the database's bound, so that a hung database is answered as unreachable in time.
    (The token refresh under its row lock is not bounded here: it waits on Slack too.)"""

    async def async_find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        async with answered_within():
            return await super().async_find_installation(
                enterprise_id=enterprise_id,
                team_id=team_id,
                user_id=user_id,
                is_enterprise_install=is_enterprise_install,
            )


@dataclass(frozen=True)
class Installations:
    """The OAuth parts of one process: the stores and the rotator, on one database."""

    settings: Settings
    sessionmaker: async_sessionmaker[AsyncSession]
    store: InstallationStore
    state_store: SignedStateStore
    rotator: LockedTokenRotator

    async def bot_token(self, team_id: str | None, enterprise_id: str | None = None) -> str | None:
        """A bot token of the workspace good for the next while, refreshed first if it expires
        soon; None when the workspace has no installation (or its refresh is refused)."""
        try:
            installation = await self.store.find_latest(
                team_id=team_id, enterprise_id=enterprise_id
            )
        except SecretDecryptionError as exc:  # TRANSITION_SECRET_KEY changed: say so, go on
            log.error("workspace %s: %s", team_id, exc)
            return None
        if installation is None or not installation.bot_token:
            return None
        if _expiring(installation.bot_token_expires_at, REFRESH_MINUTES):
            try:
                refreshed = await self.rotator.refresh(team_id=team_id, enterprise_id=enterprise_id)
            except SlackTokenRotationError as exc:
                log.warning("workspace %s: bot token refresh refused: %s", team_id, exc)
                return None
            if refreshed is None or not refreshed.bot_token:
                return None
            installation = refreshed
        register_secret(installation.bot_token)  # never in a log line
        return installation.bot_token

    async def mark_installed(self, team_id: str | None) -> None:
        """A (re)install resumes the workspace's background work."""
        if not team_id:
            return
        async with UnitOfWork(self.sessionmaker) as uow:
            await uow.workspaces.mark_installed(team_id)
            await uow.commit()


def build_installations(settings: Settings, database: Database) -> Installations:
    """OAuth's parts on ``database`` (``Runtime.installations`` holds the process's one)."""
    if not settings.slack_state_secret:
        raise ConfigError(
            "SLACK_STATE_SECRET is not set: OAuth install needs it (any long random string)."
        )
    if not settings.secret_key:
        raise ConfigError(
            "TRANSITION_SECRET_KEY is not set: OAuth install stores bot tokens encrypted with "
            "it (make one with `transition-bot genkey`)."
        )
    client_id = settings.slack_client_id or ""
    client_secret = settings.slack_client_secret or ""
    store = RequestInstallationStore(client_id, database.engine, SecretBox(settings.secret_key))
    return Installations(
        settings=settings,
        sessionmaker=database.sessionmaker,
        store=store,
        state_store=SignedStateStore(settings.slack_state_secret, database.engine),
        rotator=LockedTokenRotator(store, client_id, client_secret, api_client(settings)),
    )


class InstallFlow(AsyncOAuthFlow):
    """Bolt's flow; a completed install also resumes a workspace that had uninstalled."""

    installs: Installations

    async def store_installation(
        self, request: AsyncBoltRequest, installation: Installation
    ) -> None:
        await super().store_installation(request, installation)
        register_secret(installation.bot_token)
        register_secret(installation.bot_refresh_token)
        await self.installs.mark_installed(installation.team_id)
        log.info("installed in workspace %s", installation.team_id or installation.enterprise_id)


def slack_auth(runtime: Runtime) -> dict[str, Any]:
    """``AsyncApp`` keyword arguments: the single bot token's client, or OAuth (a token-less
    client and the install flow, Bolt's authorize reading each workspace's installation)."""
    installs = runtime.installations
    if installs is None:
        return {"client": build_web_client(runtime.settings)}
    return {
        "client": api_client(runtime.settings),
        "oauth_flow": oauth_flow(installs),
        "user_facing_authorize_error_message": NOT_INSTALLED,
    }


def oauth_flow(installs: Installations) -> InstallFlow:
    """Bolt's OAuth flow on our stores; every Web API call (incl. refresh) on SLACK_API_URL."""
    settings = installs.settings
    client = api_client(settings)
    oauth_settings = AsyncOAuthSettings(
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret,
        scopes=list(BOT_SCOPES),
        install_path=INSTALL_PATH,
        redirect_uri_path=REDIRECT_PATH,
        install_page_rendering_enabled=False,  # straight to Slack's consent page
        installation_store=installs.store,
        installation_store_bot_only=False,
        token_rotation_expiration_minutes=REFRESH_MINUTES,
        state_store=installs.state_store,
        logger=logging.getLogger("transition_bot.oauth"),
    )
    authorize = oauth_settings.authorize
    if isinstance(authorize, AsyncInstallationStoreAuthorize):
        authorize.token_rotator = installs.rotator
    flow = InstallFlow(client=client, settings=oauth_settings)
    flow.installs = installs
    return flow


def add_routes(app: web.Application, bolt_app: AsyncApp) -> None:
    """``GET /slack/install`` and ``GET /slack/oauth_redirect`` when the app does OAuth."""
    flow = bolt_app.oauth_flow
    if flow is None:
        return

    async def install(request: web.Request) -> web.Response:
        return await to_aiohttp_response(
            await flow.handle_installation(await to_bolt_request(request))
        )

    async def redirect(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await flow.handle_callback(await to_bolt_request(request)))

    app.router.add_get(flow.install_path, install)
    app.router.add_get(flow.redirect_uri_path, redirect)
