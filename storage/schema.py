"""The whole schema: importing storage.models registers every table on one metadata.

Alembic's env.py and the models-vs-migrations test compare the database with ``metadata()``.
"""

from __future__ import annotations

from sqlalchemy import MetaData

from storage.models import Base


def metadata() -> MetaData:
    return Base.metadata
