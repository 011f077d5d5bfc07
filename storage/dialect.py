"""What the repositories' statements need to run alike on PostgreSQL and SQLite."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, TypeVar

from sqlalchemy import Select, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

# Rows per multi-row INSERT: 11 parameters a row stays under SQLite's and asyncpg's 32,767.
CHUNK = 500
T = TypeVar("T")


def dialect(session: AsyncSession) -> str:
    return session.bind.dialect.name if session.bind is not None else "sqlite"


def insert(session: AsyncSession) -> Any:
    """The dialect's ``insert``, which has ``on_conflict_do_nothing``/``_do_update``."""
    return postgresql.insert if dialect(session) == "postgresql" else sqlite.insert


def skip_locked(session: AsyncSession, query: Select[Any]) -> Select[Any]:
    """Rows other replicas hold are skipped on PostgreSQL; on SQLite (one replica) the writer
    lock serialises claims anyway."""
    if dialect(session) == "postgresql":
        return query.with_for_update(skip_locked=True)
    return query


def rowcount(result: Any) -> int:
    """Rows an INSERT, UPDATE or DELETE touched."""
    return int(getattr(result, "rowcount", 0) or 0)


def _chunks(items: Sequence[T]) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


async def insert_ignoring_duplicates(
    session: AsyncSession, table: Table, values: dict[str, Any]
) -> bool:
    """INSERT … ON CONFLICT DO NOTHING on both databases; True when a row was inserted.

    A duplicate is the normal case for a second click, so it must not raise (on PostgreSQL an
    IntegrityError would also abort the whole transaction).
    """
    result = await session.execute(insert(session)(table).values(**values).on_conflict_do_nothing())
    return bool(rowcount(result))


async def insert_many_ignoring_duplicates(
    session: AsyncSession, model: Any, rows: Sequence[dict[str, Any]], returning: Any
) -> list[Any]:
    """``insert_ignoring_duplicates`` for many rows, a few statements in all; ``returning``
    (a column) of each row inserted."""
    inserted: list[Any] = []
    for chunk in _chunks(rows):
        inserted.extend(
            await session.scalars(
                insert(session)(model)
                .values(list(chunk))
                .on_conflict_do_nothing()
                .returning(returning)
            )
        )
    return inserted
