"""SQLite's one write lock: writers queue on it (BEGIN IMMEDIATE); a read-only transaction
does not take it, so a reader never waits for a writer nor makes one wait."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from storage.database import READ_ONLY, make_engine, make_sessionmaker


async def test_a_read_only_transaction_reads_while_a_writer_holds_the_lock(tmp_path: Path) -> None:
    # a short busy timeout: a reader that wrongly waits for the lock fails at once
    engine = make_engine(
        f"sqlite+aiosqlite:///{tmp_path / 'lock.db'}", connect_args={"timeout": 0.2}
    )
    sessions = make_sessionmaker(engine)
    try:
        async with sessions() as setup, setup.begin():
            await setup.execute(text("CREATE TABLE t (x INTEGER)"))
            await setup.execute(text("INSERT INTO t VALUES (1)"))
        async with sessions() as writer, writer.begin():
            await writer.execute(text("INSERT INTO t VALUES (2)"))  # holds the write lock
            async with sessions() as reader:
                await reader.connection(execution_options={READ_ONLY: True})
                # the committed state: the writer's row is not visible until it commits
                assert await reader.scalar(text("SELECT count(*) FROM t")) == 1
        async with sessions() as reader:
            await reader.connection(execution_options={READ_ONLY: True})
            assert await reader.scalar(text("SELECT count(*) FROM t")) == 2
    finally:
        await engine.dispose()
