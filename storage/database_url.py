"""Database URLs as people paste them (postgres://, sqlite:///), with the async drivers.

Light on purpose: the settings import it, and ``transition-bot --help`` imports the settings.
"""

from __future__ import annotations


def normalize_database_url(url: str) -> str:
    """Accept the URLs people paste (postgres://, sqlite:///) and pick the async drivers."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    if url.startswith("sqlite://") and not url.startswith("sqlite+"):
        return "sqlite+aiosqlite://" + url[len("sqlite://") :]
    return url
