"""Encrypt and decrypt stored secrets (a tenant's Graph client secret) with a Fernet key.

The key comes from ``TRANSITION_SECRET_KEY``; make one with ``transition-bot genkey``. Values
never appear in exceptions, reprs or logs: errors name the setting, not the data.
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken

from bot.ops.config import ConfigError

KEY_SETTING = "TRANSITION_SECRET_KEY"


class SecretDecryptionError(Exception):
    """A stored secret cannot be read with the current key (key rotated or data damaged)."""


class SecretBox:
    """Seals and opens secrets with one Fernet key. Holds no plaintext."""

    def __init__(self, key: str | None) -> None:
        if not key:
            raise ConfigError(
                f"{KEY_SETTING} is not set: set it to a Fernet key "
                "(make one with `transition-bot genkey`)."
            )
        try:
            self._fernet = Fernet(key.strip().encode("ascii"))
        except (ValueError, UnicodeEncodeError):
            raise ConfigError(
                f"{KEY_SETTING} is not a valid Fernet key (32 url-safe base64-encoded bytes): "
                "make one with `transition-bot genkey`."
            ) from None

    def __repr__(self) -> str:
        return "SecretBox(<key hidden>)"

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeError):
            raise SecretDecryptionError(
                f"a stored secret cannot be decrypted with the current {KEY_SETTING}: "
                "was the key changed? Enter the credentials again."
            ) from None


def generate_key() -> str:
    return Fernet.generate_key().decode("ascii")
