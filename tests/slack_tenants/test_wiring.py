"""Every button, menu and modal id has its listener; the scheduler carries the reminder job."""

from __future__ import annotations

from typing import Any

from bot.app.assembly import register_handlers
from bot.app.runtime import Runtime
from bot.blocks.ids import ActionId, MailboxAction, TenantAction, ViewId
from bot.jobs.background import build_background
from bot.ops.config import Settings
from storage.database import Database


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    def __getattr__(self, kind: str) -> Any:
        def register(*args: Any, **kwargs: Any) -> Any:
            self.calls.append((kind, args[0] if args else None))
            return lambda func: func

        return register


def test_every_action_and_view_id_has_a_listener() -> None:
    recorder = Recorder()
    register_handlers(recorder, Runtime(settings=Settings()))
    actions = {str(a) for kind, a in recorder.calls if kind == "action"}
    views = {str(v) for kind, v in recorder.calls if kind == "view"}
    for ids in (ActionId, TenantAction, MailboxAction):
        assert {a.value for a in ids} <= actions, ids
    assert {v.value for v in ViewId} <= views


async def test_scheduler_has_the_reminder_job_when_there_is_a_database(tmp_path: Any) -> None:
    database = Database(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        with_db = build_background(Runtime(settings=Settings(), database=database)).scheduler
        assert "reminders" in [job.id for job in with_db.apscheduler.get_jobs()]
        without = build_background(Runtime(settings=Settings())).scheduler
        assert "reminders" not in [job.id for job in without.apscheduler.get_jobs()]
    finally:
        await database.dispose()
