"""Per-workspace Web API clients for background work, and a workspace's life cycle.

Jobs (polls, reminders, outbox delivery) run with no incoming request, so they cannot use
Bolt's per-request ``client``. They ask here instead::

    client = await client_for_tenant(runtime, tenant_id)   # or client_for_team(runtime, "T…")
    if client is None:
        ...  # uninstalled workspace: post nothing

Single-token mode: the bot token's client. OAuth mode: the workspace's installation token,
refreshed first when it expires soon (bot.slack.install.TokenRotator: one refresh per
process, no lock held while Slack is asked). ``None`` once the workspace uninstalled the app
or revoked its token.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.app.runtime import Runtime
from storage.installations import InstallationStore

log = logging.getLogger(__name__)


async def client_for_team(
    runtime: Runtime, team_id: str, enterprise_id: str | None = None
) -> AsyncWebClient | None:
    """A retrying client with the workspace's bot token, or None when it is uninstalled."""
    async with runtime.db.uow() as uow:
        if await uow.workspaces.uninstalled_at(team_id) is not None:
            return None
    installs = runtime.installations
    if installs is None:
        return runtime.web_client()
    token = await installs.bot_token(team_id, enterprise_id or None)
    return None if token is None else runtime.web_client(token)


async def client_for_tenant(runtime: Runtime, tenant_id: int) -> AsyncWebClient | None:
    """``client_for_team`` for the workspace a tenant belongs to (None if the tenant is gone)."""
    async with runtime.db.uow() as uow:
        workspace = await uow.workspaces.of_tenant(tenant_id)
    if workspace is None or workspace.uninstalled_at is not None:
        return None
    return await client_for_team(runtime, workspace.team_id, workspace.enterprise_id or None)


def hosted_by(channel: Any, team_id: str) -> bool:
    """Whether ``conversations.info``'s channel belongs to workspace ``team_id``: its host
    (Slack Connect's ``conversation_host_id``, else ``context_team_id``) is that team. A
    channel that says neither is not taken as ours."""
    if not isinstance(channel, dict):
        return False
    host = channel.get("conversation_host_id") or channel.get("context_team_id")
    return isinstance(host, str) and host == team_id


def ends_install(event: Any) -> bool:
    """``app_uninstalled``, or ``tokens_revoked`` naming a bot token (the app asks for no user
    scopes, so only the bot token matters)."""
    if not isinstance(event, dict):
        return False
    if event.get("type") == "app_uninstalled":
        return True
    tokens = event.get("tokens")
    return (
        event.get("type") == "tokens_revoked"
        and isinstance(tokens, dict)
        and bool(tokens.get("bot"))
    )


async def take_event(runtime: Runtime, body: dict[str, Any], now: datetime | None = None) -> bool:
    """Record an Events API delivery's ``event_id``; True on its first delivery (on any
    replica). An uninstall is recorded in the same transaction, before the ack: a crash after
    the ack cannot lose it, and Slack's retry of it is dropped as a duplicate only once it is
    stored. (Forgetting the installation's tokens follows in the listener.)"""
    if runtime.database is None:
        return True
    at = now or datetime.now(UTC)
    found = body.get("team_id")
    team = found if isinstance(found, str) else ""
    async with runtime.database.uow() as uow:
        first = await uow.events.first_delivery(str(body.get("event_id")), team, at)
        if first and team and ends_install(body.get("event")):
            await uow.workspaces.mark_uninstalled(team, at)
        await uow.commit()
    return first


async def replay_held(runtime: Runtime) -> int:
    """Record the events held during a database outage (bot.slack.held_events), oldest first,
    as the intake and the listener would have; a failure stops it and keeps the rest held.
    Forgetting the installation is idempotent, so it is done again after a half-done try."""
    held = runtime.held_events
    replayed = 0
    while (event := held.first()) is not None:
        body = event.body
        await take_event(runtime, body, event.received_at)
        if ends_install(body.get("event")):
            team, enterprise = body.get("team_id"), body.get("enterprise_id")
            await workspace_uninstalled(
                runtime,
                team if isinstance(team, str) else None,
                enterprise if isinstance(enterprise, str) else None,
                event.received_at,
            )
        held.done(event)
        replayed += 1
    if replayed:
        log.info("%d event(s) held during the database outage recorded", replayed)
    return replayed


async def workspace_uninstalled(
    runtime: Runtime,
    team_id: str | None,
    enterprise_id: str | None = None,
    now: datetime | None = None,
) -> None:
    """The app was uninstalled or its bot token revoked: stop polling and posting there now,
    and forget its installation. Its tenants stay until ``transition-bot workspace delete``."""
    at = now or datetime.now(UTC)
    if team_id:
        async with runtime.db.uow() as uow:
            await uow.workspaces.mark_uninstalled(team_id, at)
            await uow.commit()
    installs = runtime.installations
    if installs is not None:
        await installs.store.async_delete_all(enterprise_id=enterprise_id, team_id=team_id)
    log.info("workspace %s uninstalled the app: its background work stopped", team_id)


async def resume_token_workspace(runtime: Runtime) -> str | None:
    """Single-token mode: when ``SLACK_BOT_TOKEN`` works (``auth.test``), its workspace is
    installed, so work marked stopped by an earlier ``app_uninstalled`` resumes. Returns the
    team id resumed, if any. (With OAuth a reinstall does this in bot.slack.install.)"""
    if runtime.installations is not None or not runtime.settings.slack_bot_token:
        return None
    async with runtime.db.uow() as uow:
        stopped = [w for w in await uow.workspaces.overview() if w.uninstalled_at]
    if not stopped:
        return None  # nothing to resume: no call to Slack
    try:
        team_id = str((await runtime.web_client().auth_test()).get("team_id") or "")
    except (SlackApiError, aiohttp.ClientError, TimeoutError, OSError) as exc:
        log.warning("cannot check SLACK_BOT_TOKEN with auth.test: %s", type(exc).__name__)
        return None
    async with runtime.db.uow() as uow:
        repo = uow.workspaces
        if not team_id or await repo.uninstalled_at(team_id) is None:
            return None
        await repo.mark_installed(team_id)
        await uow.commit()
    log.info("workspace %s: the bot token works again; background work resumes", team_id)
    return team_id


@dataclass(frozen=True)
class Deleted:
    workspaces: int
    tenants: int
    installations: int


async def delete_workspace(runtime: Runtime, team_id: str) -> Deleted:
    """Delete a workspace's tenants (and everything under them) and its installations."""
    async with runtime.db.uow() as uow:
        repo = uow.workspaces
        tenants = await repo.count_tenants(team_id)
        workspaces = await repo.delete(team_id)
        await uow.commit()
    # Every installation row of the team, whatever the client id: also from an admin shell
    # without the OAuth settings (nothing is decrypted to delete it).
    removed = await InstallationStore("", runtime.db.engine, None).delete_team(team_id)
    return Deleted(workspaces=workspaces, tenants=tenants, installations=removed)
