"""OAuth install ("Add to Slack") for many workspaces: Bolt's own OAuth flow on our database.

With ``SLACK_CLIENT_ID`` / ``SLACK_CLIENT_SECRET`` (``settings.oauth_enabled``) the bot serves
every workspace that installed it: ``GET /slack/install`` starts Bolt's ``AsyncOAuthFlow``,
``GET /slack/oauth_redirect`` finishes it (``oauth.v2.access``) and saves the installation in
``slack_installations`` / ``slack_bots`` (storage.installations, tokens sealed with
``TRANSITION_SECRET_KEY``); Bolt's authorize reads the token for each request from there.

Token rotation has one code path, ``TokenRotator``: Bolt's authorize calls it per request and
the background jobs call it through ``Installations.bot_token`` (bot.slack.workspaces), so an
expiring token is refreshed by whoever needs it first, once per process. No lock or transaction
is held while Slack is asked (a database that hangs, or a slow Slack, would hold it, and the
request with it, past Slack's 3 s): the installation is read, Slack asked, and the new token
stored in one short compare-and-set transaction (storage.installations.save_refreshed); of two
replicas refreshing at once, the one that stores second reads the first one's token instead.

Every client made here follows ``SLACK_API_URL`` (tests point it at the local fake).
"""

from __future__ import annotations

import asyncio
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
from slack_sdk.errors import SlackApiError, SlackTokenRotationError
from slack_sdk.oauth.installation_store import Installation
from slack_sdk.oauth.token_rotation.async_rotator import AsyncTokenRotator
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app.runtime import Runtime, build_web_client
from bot.ops.config import ConfigError, Settings
from bot.ops.logs import register_secret
from bot.ops.secrets import SecretBox, SecretDecryptionError
from storage.database import Database, answered_within
from storage.health import is_unreachable
from storage.installations import InstallationStore, SignedStateStore, StoredInstallation
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
    ":warning: Transition Bot is not installed in this workspace (or was removed), or Slack did "
    "not renew its access in time (then try again in a minute), so it cannot act here. If this "
    "goes on, ask a workspace admin to add it again through your bot's `/slack/install` page; "
    "this workspace's transitions are kept meanwhile."
)
# Refresh a bot token this long before it expires (Slack's rotating tokens live 12 hours).
REFRESH_MINUTES = 120
# A request whose token is still good uses it and never waits for its refresh (that goes on in
# the background). One whose token has expired (or expires within EXPIRED_MARGIN_SECONDS) waits
# for Slack's new token at most REQUEST_WAIT_SECONDS, then is refused (NOT_INSTALLED), so that,
# with Bolt's installation read and the listener's own bounds (storage.database), it is still
# answered within Slack's 3 s; the refresh itself goes on, and its token is stored for the next.
EXPIRED_MARGIN_SECONDS = 60
REQUEST_WAIT_SECONDS = 0.5  # Slack answers a refresh in a few hundred ms
# oauth.v2.access's own timeout (the refresh runs in a task of its own, never in a transaction).
REFRESH_HTTP_SECONDS = 10.0
# A refresh that Slack refused may be one another replica made first with the same refresh token
# (Slack's are single use): its token is looked for in the database this long before giving up.
ELSEWHERE_SECONDS = 3.0


def api_client(settings: Settings) -> AsyncWebClient:
    """A retrying client with no token, on ``SLACK_API_URL`` (OAuth calls, Bolt's app client)."""
    return build_web_client(dataclasses.replace(settings, slack_bot_token=None))


def refresh_client(settings: Settings) -> AsyncWebClient:
    """``api_client`` whose calls give up after REFRESH_HTTP_SECONDS (slack_sdk's default is 30)."""
    client = api_client(settings)
    client.timeout = int(REFRESH_HTTP_SECONDS)
    return client


def _expires_within(expires_at: int | None, seconds: float) -> bool:
    return expires_at is not None and expires_at <= time.time() + seconds


def _workspace(team_id: str | None, enterprise_id: str | None) -> str:
    return team_id or f"org {enterprise_id}"


@dataclass(frozen=True)
class _Refresh:
    task: asyncio.Task[Installation | None]  # ends once the new token is stored (or not)
    token: asyncio.Future[Installation | None]  # the new token, as soon as Slack answered


class TokenRotator(AsyncTokenRotator):
    """slack-sdk's rotator with no lock held while Slack is asked, one refresh per workspace at
    a time in this process (a task of its own: a request that stops waiting does not cancel it).

    The refresh reads the newest installation (another replica may have refreshed it already),
    asks Slack, then stores the new token only if the row still holds the one it was refreshed
    from (``save_refreshed``); if another replica stored first, its token is read and used. When
    Slack refuses because that other replica used the single-use refresh token first, its token
    is waited for in the database (ELSEWHERE_SECONDS). A new token the database could not take
    (unreachable) is kept here, used meanwhile and stored on its next use: its refresh token is
    the only valid one. Only bot tokens are rotated (the app asks for no user scopes).
    """

    def __init__(
        self, store: InstallationStore, client_id: str, client_secret: str, client: AsyncWebClient
    ) -> None:
        super().__init__(client_id=client_id, client_secret=client_secret, client=client)
        self.store = store
        self._running: dict[str, _Refresh] = {}
        self._unsaved: dict[str, tuple[StoredInstallation, Installation]] = {}

    async def perform_token_rotation(
        self, *, installation: Installation, minutes_before_expiration: int = REFRESH_MINUTES
    ) -> Installation | None:
        """Bolt's authorize, per request: None when the installation's token serves (a refresh
        it needs soon goes on in the background); the refreshed installation when it had
        expired and Slack answered within REQUEST_WAIT_SECONDS; refused otherwise."""
        if not _expires_within(installation.bot_token_expires_at, minutes_before_expiration * 60):
            return None
        team_id, enterprise_id = installation.team_id, installation.enterprise_id
        token = self._start(team_id, enterprise_id).token
        unsaved = self._unsaved.get(_workspace(team_id, enterprise_id))
        if (
            unsaved is not None
            and unsaved[1].installed_at == installation.installed_at
            and not _expires_within(unsaved[1].bot_token_expires_at, EXPIRED_MARGIN_SECONDS)
        ):
            return self._handed_out(unsaved[1])
        if not _expires_within(installation.bot_token_expires_at, EXPIRED_MARGIN_SECONDS):
            return None
        done, _ = await asyncio.wait({token}, timeout=REQUEST_WAIT_SECONDS)
        if not done:
            log.warning(
                "workspace %s: Slack did not renew the expired bot token within %g s; the request "
                "is refused, the refresh goes on",
                _workspace(team_id, enterprise_id),
                REQUEST_WAIT_SECONDS,
            )
            raise SlackTokenRotationError(
                SlackApiError("the token refresh is still waiting on Slack", {"ok": False})
            )
        refreshed = token.result()
        return None if refreshed is None else self._handed_out(refreshed)

    async def refresh(
        self, *, team_id: str | None, enterprise_id: str | None = None
    ) -> Installation | None:
        """The newest installation with a fresh bot token (refreshed and stored first if still
        needed; a token the database could not take yet is returned all the same)."""
        return await asyncio.shield(self._start(team_id, enterprise_id).task)

    def _handed_out(self, installation: Installation) -> Installation:
        self.store.refreshed_here.add(installation)  # stored by us: Bolt's save is skipped
        return installation

    def _start(self, team_id: str | None, enterprise_id: str | None) -> _Refresh:
        """The workspace's refresh under way here, or a new one."""
        key = _workspace(team_id, enterprise_id)
        running = self._running.get(key)
        if running is None:
            token: asyncio.Future[Installation | None] = asyncio.get_running_loop().create_future()
            task = asyncio.create_task(self._refresh(team_id, enterprise_id, key, token))
            running = self._running[key] = _Refresh(task, token)
            task.add_done_callback(lambda done: self._finished(key, running))
        return running

    def _finished(self, key: str, running: _Refresh) -> None:
        if self._running.get(key) is running:
            del self._running[key]
        task, token = running.task, running.token
        error = None if task.cancelled() else task.exception()
        if not token.done():
            if task.cancelled():
                token.cancel()
            elif error is not None:
                token.set_exception(error)
                token.exception()  # its waiters (if any) get it; no "never retrieved" warning
            else:
                token.set_result(task.result())
        if isinstance(error, SlackTokenRotationError):
            log.warning("workspace %s: bot token refresh refused: %s", key, error.api_error)
        elif error is not None and is_unreachable(error):
            log.warning("workspace %s: bot token refresh: database unreachable", key)
        elif error is not None:
            log.error("workspace %s: bot token refresh failed", key, exc_info=error)

    async def _refresh(
        self,
        team_id: str | None,
        enterprise_id: str | None,
        key: str,
        token: asyncio.Future[Installation | None],
    ) -> Installation | None:
        unsaved = self._unsaved.get(key)
        if unsaved is not None:
            token.set_result(unsaved[1])
            return await self._save(key, *unsaved)
        stored = await self._read(team_id, enterprise_id)
        if stored is None:
            return None
        current = stored.installation
        if not _expires_within(current.bot_token_expires_at, REFRESH_MINUTES * 60):
            return current  # another replica refreshed it first
        try:
            bot = await self.perform_bot_token_rotation(
                bot=current.to_bot(), minutes_before_expiration=REFRESH_MINUTES
            )
        except SlackTokenRotationError:
            newer = await self._refreshed_elsewhere(stored)
            if newer is None:
                raise
            return newer
        if bot is None:
            return None
        refreshed = Installation(**current.to_dict_for_copying())
        refreshed.bot_token = bot.bot_token
        refreshed.bot_refresh_token = bot.bot_refresh_token
        refreshed.bot_token_expires_at = bot.bot_token_expires_at
        register_secret(refreshed.bot_token)
        register_secret(refreshed.bot_refresh_token)
        token.set_result(refreshed)  # usable now; a request need not wait for the save
        return await self._save(key, stored, refreshed)

    async def _read(
        self, team_id: str | None, enterprise_id: str | None
    ) -> StoredInstallation | None:
        async with answered_within():
            return await self.store.find_latest_stored(team_id=team_id, enterprise_id=enterprise_id)

    async def _save(
        self, key: str, stored: StoredInstallation, refreshed: Installation
    ) -> Installation | None:
        try:
            async with answered_within():
                won = await self.store.save_refreshed(stored, refreshed)
        except Exception as error:
            if not is_unreachable(error):
                raise
            self._unsaved[key] = (stored, refreshed)
            log.warning(
                "workspace %s: refreshed the bot token, but the database is unreachable: it is "
                "used meanwhile and stored on its next use",
                key,
            )
            return refreshed
        self._unsaved.pop(key, None)
        if won:
            log.info("refreshed the bot token of workspace %s", key)
            return refreshed
        log.info("workspace %s: another replica refreshed the bot token first", key)
        latest = await self._read(stored.installation.team_id, stored.installation.enterprise_id)
        return None if latest is None else latest.installation

    async def _refreshed_elsewhere(self, stored: StoredInstallation) -> Installation | None:
        """The token another replica stored since ``stored`` was read, if one lands in time."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + ELSEWHERE_SECONDS
        pause = 0.05
        while True:
            latest = await self._read(
                stored.installation.team_id, stored.installation.enterprise_id
            )
            if latest is not None and (latest.row_id, latest.expires_at) != (
                stored.row_id,
                stored.expires_at,
            ):
                return latest.installation
            if loop.time() + pause > deadline:
                return None
            await asyncio.sleep(pause)
            pause = min(pause * 2, 0.5)


class RequestInstallationStore(InstallationStore):
    """The store as Bolt's authorize reads it, before any listener runs on every request:
    within the database's bound, so that a hung database is answered as unreachable in time.
    (A token refresh bounds its own reads and writes, and a request's wait: ``TokenRotator``.)"""

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
    rotator: TokenRotator

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
        if _expires_within(installation.bot_token_expires_at, REFRESH_MINUTES * 60):
            try:
                refreshed = await self.rotator.refresh(team_id=team_id, enterprise_id=enterprise_id)
            except SlackTokenRotationError:  # logged by the rotator
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
        rotator=TokenRotator(store, client_id, client_secret, refresh_client(settings)),
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
