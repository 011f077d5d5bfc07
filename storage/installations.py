"""slack-sdk's async SQLAlchemy installation and OAuth state stores, on our database.

The tables are created by our migrations (storage.models builds them with the same builders,
token columns widened to TEXT in 0003). The stores here add three things to slack-sdk's:

- tokens are sealed at rest: the store's own ``Table`` objects carry a column type that
  encrypts on write and decrypts on read with a ``Cipher`` from the bot layer (a value that
  does not look sealed, e.g. written by a plain slack-sdk store, is read as it is);
- ``save_refreshed``: a refreshed bot token written with a compare-and-set on the expiry it
  was refreshed from, in one short transaction after Slack answered (no lock is held while
  Slack is asked): of two replicas refreshing at once, the second finds the row changed and
  reads the first one's token;
- ``delete_team``: every installation row of a team, whatever its enterprise or client id.

The state store signs the state it hands out with ``SLACK_STATE_SECRET`` and refuses an
unsigned or forged one before looking it up.
"""

from __future__ import annotations

import hashlib
import hmac
import weakref
from collections.abc import Sequence
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
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.types import TypeDecorator

from storage.dialect import rowcount

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


@dataclass(frozen=True)
class StoredInstallation:
    """The newest installation of a workspace as read, with what a compare-and-set of its bot
    token needs: its row, and the expiry exactly as stored."""

    installation: Installation
    row_id: int
    installed_at: datetime
    expires_at: datetime | None


class InstallationStore(AsyncSQLAlchemyInstallationStore):
    """slack-sdk's store on our engine, tokens sealed with ``cipher`` (None: stored as given)."""

    def __init__(self, client_id: str, engine: AsyncEngine, cipher: Cipher | None) -> None:
        super().__init__(client_id=client_id, engine=engine)
        # What the rotator refreshed and stores itself: Bolt's save of it is skipped.
        self.refreshed_here: weakref.WeakSet[Installation] = weakref.WeakSet()
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
        (``_rotate_and_save_tokens_if_necessary``). Our rotator (bot.slack.install.TokenRotator)
        stores that refresh itself (``save_refreshed``), so that second save is redundant at
        best, and when it lands late it puts back a token a later refresh replaced; the
        rotator's own installations are skipped without a read (``refreshed_here``).
        An install through the OAuth redirect is a new installation (its own ``installed_at``)
        and is saved as usual, even with the same bot token (a reinstall that adds scopes keeps
        the token): so the test is "this installation is the latest stored", not "the token is
        the same".
        """
        if installation in self.refreshed_here:
            return
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
        stored = await self.find_latest_stored(team_id=team_id, enterprise_id=enterprise_id)
        return None if stored is None else stored.installation

    async def find_latest_stored(
        self, *, team_id: str | None, enterprise_id: str | None = None
    ) -> StoredInstallation | None:
        """``find_latest`` with its row id and stored expiry (for ``save_refreshed``)."""
        async with self.engine.connect() as conn:
            result = (await conn.execute(self._latest_query(team_id, enterprise_id))).mappings()
            row = result.first()
        if row is None:
            return None
        return StoredInstallation(
            installation=SQLAlchemyInstallationStore.build_installation_entity(row),
            row_id=int(row["id"]),
            installed_at=row["installed_at"],
            expires_at=row["bot_token_expires_at"],
        )

    async def save_refreshed(self, stored: StoredInstallation, refreshed: Installation) -> bool:
        """Store a refreshed bot token in ``stored``'s row (and its ``slack_bots`` twin) if that
        row still holds the token it was refreshed from (the same stored expiry): one short
        transaction, after Slack answered. False when another replica stored its refresh first
        (the caller reads that one instead)."""
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
        i, b = self.installations, self.bots
        async with self.engine.begin() as conn:
            updated = await conn.execute(
                update(i)
                .where(i.c.id == stored.row_id, _same(i.c.bot_token_expires_at, stored.expires_at))
                .values(**values)
            )
            if not rowcount(updated):
                return False
            await conn.execute(
                update(b)
                .where(
                    b.c.client_id == self.client_id,
                    b.c.enterprise_id == stored.installation.enterprise_id,
                    b.c.team_id == stored.installation.team_id,
                    b.c.installed_at == stored.installed_at,
                )
                .values(**values)
            )
        return True

    async def delete_team(self, team_id: str) -> int:
        """Delete every installation and bot row of ``team_id`` (any client, any enterprise)."""
        async with self.engine.begin() as conn:
            bots = await conn.execute(delete(self.bots).where(self.bots.c.team_id == team_id))
            installs = await conn.execute(
                delete(self.installations).where(self.installations.c.team_id == team_id)
            )
        return rowcount(bots) + rowcount(installs)


def _same(column: Any, value: datetime | None) -> Any:
    return column.is_(None) if value is None else column == value


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
