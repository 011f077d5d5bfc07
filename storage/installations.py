"""slack-sdk's async SQLAlchemy installation and OAuth state stores, on our database.

The tables are created by our migrations (storage.models builds them with the same builders,
token columns widened to TEXT in 0003). The stores here add three things to slack-sdk's:

- tokens are sealed at rest: the store's own ``Table`` objects carry a column type that
  encrypts on write and decrypts on read with a ``Cipher`` from the bot layer (a value that
  does not look sealed, e.g. written by a plain slack-sdk store, is read as it is);
- ``locked_latest``: the newest installation of a workspace read under a row lock
  (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite transactions begin IMMEDIATE, see
  storage.database), so a token refresh and its save happen once however many replicas try;
- ``delete_team``: every installation row of a team, whatever its enterprise or client id.

The state store signs the state it hands out with ``SLACK_STATE_SECRET`` and refuses an
unsigned or forged one before looking it up.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from slack_sdk.oauth.installation_store import Installation
from slack_sdk.oauth.installation_store.sqlalchemy import (
    AsyncSQLAlchemyInstallationStore,
    SQLAlchemyInstallationStore,
)
from slack_sdk.oauth.state_store.sqlalchemy import AsyncSQLAlchemyOAuthStateStore
from sqlalchemy import MetaData, Table, Text, delete, desc, update
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.types import TypeDecorator

BOTS_TABLE = "slack_bots"
INSTALLATIONS_TABLE = "slack_installations"
STATES_TABLE = "slack_oauth_states"

# Rotating tokens (xoxe.xoxb-…, xoxe-…) are long and sealing makes them longer still.
BOT_TOKEN_COLUMNS = ("bot_token", "bot_refresh_token")
INSTALLATION_TOKEN_COLUMNS = (*BOT_TOKEN_COLUMNS, "user_token", "user_refresh_token")


class Cipher(Protocol):
    """What seals tokens (bot.ops.secrets.SecretBox is one)."""

    def encrypt(self, plaintext: str) -> str: ...

    def decrypt(self, token: str) -> str: ...


def _widen(table: Table, columns: Sequence[str]) -> Table:
    for name in columns:
        table.c[name].type = Text()
    return table


def build_bots_table(metadata: MetaData) -> Table:
    """slack-sdk's ``slack_bots`` with TEXT token columns (storage.models and the store use it)."""
    table = AsyncSQLAlchemyInstallationStore.build_bots_table(metadata, BOTS_TABLE)
    return _widen(table, BOT_TOKEN_COLUMNS)


def build_installations_table(metadata: MetaData) -> Table:
    table = AsyncSQLAlchemyInstallationStore.build_installations_table(
        metadata, INSTALLATIONS_TABLE
    )
    return _widen(table, INSTALLATION_TOKEN_COLUMNS)


def build_states_table(metadata: MetaData) -> Table:
    return AsyncSQLAlchemyOAuthStateStore.build_oauth_states_table(metadata, STATES_TABLE)


# Fernet tokens are url-safe base64 of a version byte 0x80: they always start like this.
_SEALED_PREFIX = "gAAAAA"


class SealedText(TypeDecorator[str]):
    """TEXT whose values are encrypted with ``cipher`` on the way in, decrypted on the way out."""

    impl = Text
    cache_ok = True

    def __init__(self, cipher: Cipher) -> None:
        super().__init__()
        self.cipher = cipher

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else self.cipher.encrypt(value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        if value is None or not value.startswith(_SEALED_PREFIX):
            return value
        return self.cipher.decrypt(value)


@dataclass
class LockedInstallation:
    """The newest installation of a workspace, its row locked until the block ends."""

    installation: Installation
    _store: InstallationStore
    _conn: AsyncConnection
    _row_id: int
    _installed_at: datetime

    async def save_bot_token(self, refreshed: Installation) -> None:
        """Store a refreshed bot token in the locked row (and its ``slack_bots`` twin)."""
        expires = refreshed.bot_token_expires_at
        values: dict[str, Any] = {
            "bot_token": refreshed.bot_token,
            "bot_refresh_token": refreshed.bot_refresh_token,
            "bot_token_expires_at": (
                None
                if expires is None
                else datetime.fromtimestamp(expires, UTC).replace(tzinfo=None)
            ),
        }
        i, b = self._store.installations, self._store.bots
        await self._conn.execute(update(i).where(i.c.id == self._row_id).values(**values))
        await self._conn.execute(
            update(b)
            .where(
                b.c.client_id == self._store.client_id,
                b.c.enterprise_id == self.installation.enterprise_id,
                b.c.team_id == self.installation.team_id,
                b.c.installed_at == self._installed_at,
            )
            .values(**values)
        )


class InstallationStore(AsyncSQLAlchemyInstallationStore):
    """slack-sdk's store on our engine, tokens sealed with ``cipher`` (None: stored as given)."""

    def __init__(self, client_id: str, engine: AsyncEngine, cipher: Cipher | None) -> None:
        super().__init__(client_id=client_id, engine=engine)
        metadata = MetaData()
        self.bots = build_bots_table(metadata)
        self.installations = build_installations_table(metadata)
        if cipher is not None:
            for table, columns in (
                (self.bots, BOT_TOKEN_COLUMNS),
                (self.installations, INSTALLATION_TOKEN_COLUMNS),
            ):
                for name in columns:
                    table.c[name].type = SealedText(cipher)

    async def async_save(self, installation: Installation) -> None:
        """Save a new installation; a save of one already stored is skipped.

        Bolt's authorize saves an installation again after a token refresh
        (``_rotate_and_save_tokens_if_necessary``), outside any lock. Our rotator
        (bot.slack.install.LockedTokenRotator) has already stored that refresh under the row lock,
        so that second save is redundant at best, and when it lands late it puts back a token
        a later refresh replaced. An install through the OAuth redirect is a new installation
        (its own ``installed_at``) and is saved as usual, even with the same bot token (a
        reinstall that adds scopes keeps the token): so the test is "this installation is the
        latest stored", not "the token is the same".
        """
        latest = await self.find_latest(
            team_id=installation.team_id, enterprise_id=installation.enterprise_id
        )
        if latest is not None and latest.installed_at == installation.installed_at:
            return
        await super().async_save(installation)

    def _latest_query(self, team_id: str | None, enterprise_id: str | None) -> Any:
        c = self.installations.c
        query = self.installations.select().where(c.client_id == self.client_id)
        if team_id:
            # Team ids are unique across Slack; payloads carry the enterprise id unevenly.
            query = query.where(c.team_id == team_id)
        else:  # an org-wide (Enterprise Grid) installation
            query = query.where(c.team_id.is_(None), c.enterprise_id == enterprise_id)
        return query.order_by(desc(c.installed_at), desc(c.id)).limit(1)

    async def find_latest(
        self, *, team_id: str | None, enterprise_id: str | None = None
    ) -> Installation | None:
        """The newest installation of a team (or of an org when ``team_id`` is empty)."""
        async with self.engine.connect() as conn:
            row = (await conn.execute(self._latest_query(team_id, enterprise_id))).mappings()
            first = row.first()
        return (
            None if first is None else SQLAlchemyInstallationStore.build_installation_entity(first)
        )

    @asynccontextmanager
    async def locked_latest(
        self, *, team_id: str | None, enterprise_id: str | None = None
    ) -> AsyncIterator[LockedInstallation | None]:
        """``find_latest`` under a row lock held until the block ends (then committed).

        Re-read here, after the lock: another replica may have refreshed the token meanwhile.
        """
        async with self.engine.begin() as conn:
            query = self._latest_query(team_id, enterprise_id).with_for_update()
            first = (await conn.execute(query)).mappings().first()
            if first is None:
                yield None
                return
            yield LockedInstallation(
                installation=SQLAlchemyInstallationStore.build_installation_entity(first),
                _store=self,
                _conn=conn,
                _row_id=int(first["id"]),
                _installed_at=first["installed_at"],
            )

    async def delete_team(self, team_id: str) -> int:
        """Delete every installation and bot row of ``team_id`` (any client, any enterprise)."""
        async with self.engine.begin() as conn:
            bots = await conn.execute(delete(self.bots).where(self.bots.c.team_id == team_id))
            installs = await conn.execute(
                delete(self.installations).where(self.installations.c.team_id == team_id)
            )
        return int(bots.rowcount or 0) + int(installs.rowcount or 0)


class SignedStateStore(AsyncSQLAlchemyOAuthStateStore):
    """OAuth state kept in ``slack_oauth_states``; what the browser carries is signed."""

    def __init__(self, secret: str, engine: AsyncEngine, expiration_seconds: int = 600) -> None:
        super().__init__(expiration_seconds=expiration_seconds, engine=engine)
        self.oauth_states = build_states_table(MetaData())
        self._key = secret.encode("utf-8")

    def _sign(self, state: str) -> str:
        return hmac.new(self._key, state.encode("utf-8"), hashlib.sha256).hexdigest()

    async def async_issue(self, *args: Any, **kwargs: Any) -> str:
        # Abandoned installs leave states behind: drop the expired ones as new ones come.
        now = datetime.now(UTC).replace(tzinfo=None)  # slack-sdk keeps naive UTC
        async with self.engine.begin() as conn:
            await conn.execute(delete(self.oauth_states).where(self.oauth_states.c.expire_at < now))
        state = await super().async_issue(*args, **kwargs)
        return f"{state}.{self._sign(state)}"

    async def async_consume(self, state: str) -> bool:
        raw, _, signature = (state or "").rpartition(".")
        if not raw or not hmac.compare_digest(signature, self._sign(raw)):
            return False
        return await super().async_consume(raw)
