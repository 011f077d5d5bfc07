from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from bot.core.runbook import StepId
from bot.services import acks
from bot.services.common import Refusal
from bot.services.history import history
from bot.services.reminders import claim_due, list_reminders, reminders_off, set_reminder
from bot.services.views import TenantStatus
from storage.uow import UnitOfWork
from tests.services.conftest import ALICE, BOB, OTHER_TEAM, caller

Uow = Callable[[], UnitOfWork]
FRIDAY = datetime(2026, 3, 27, 12, 0, tzinfo=UTC)


async def test_reminders_set_list_dedupe_and_off(uow_factory: Uow, started: TenantStatus) -> None:
    first = await set_reminder(uow_factory(), caller(), "weekdays 09:00", now=FRIDAY)
    assert first.next_run == datetime(2026, 3, 30, 7, 0, tzinfo=UTC)  # Monday 09:00 CEST
    for same in ("Weekdays 9:00", 'cron "0 9 * * 1-5"', 'cron "00 09 * * mon-fri"'):
        with pytest.raises(Refusal) as twice:
            await set_reminder(uow_factory(), caller(), same, now=FRIDAY)
        assert twice.value.code == "duplicate-reminder"
        assert "already has a reminder at those times: `weekdays 09:00`" in twice.value.message
    with pytest.raises(Refusal) as bad:
        await set_reminder(uow_factory(), caller(), "every now and then")
    assert bad.value.code == "bad-schedule"
    with pytest.raises(Refusal):
        await set_reminder(uow_factory(), caller(team=OTHER_TEAM), "daily 09:00")
    assert [r.schedule for r in await list_reminders(uow_factory(), caller())] == ["weekdays 09:00"]
    assert await reminders_off(uow_factory(), caller()) == 1
    assert await list_reminders(uow_factory(), caller()) == []
    actions = [e.action for e in await history(uow_factory(), caller())]
    assert actions[0] == "reminder.off" and actions.count("reminder.set") == 1


async def test_claim_due_posts_once_and_advances(uow_factory: Uow, started: TenantStatus) -> None:
    await set_reminder(uow_factory(), caller(), "daily 09:00", now=FRIDAY)
    due_at = datetime(2026, 3, 28, 8, 0, tzinfo=UTC)
    assert await claim_due(uow_factory(), due_at - timedelta(seconds=1)) == []
    claimed = await claim_due(uow_factory(), due_at + timedelta(seconds=5))
    assert [c.fire_time for c in claimed] == [due_at]
    assert claimed[0].status.tenant.id == started.tenant.id
    assert await claim_due(uow_factory(), due_at + timedelta(seconds=6)) == []
    (reminder,) = await list_reminders(uow_factory(), caller())
    assert reminder.next_run == datetime(2026, 3, 29, 7, 0, tzinfo=UTC)  # CEST now
    assert reminder.last_run == due_at + timedelta(seconds=5)


async def test_each_user_acks_once(uow_factory: Uow, started: TenantStatus) -> None:
    tid = started.tenant.id
    first = await acks.acknowledge(uow_factory(), caller(ALICE), tid)
    second = await acks.acknowledge(uow_factory(), caller(ALICE), tid)
    assert first.new and not second.new
    tally = await acks.acknowledge(uow_factory(), caller(BOB), tid)
    assert tally.acked == {ALICE, BOB}
    assert tally.among(["U0BOT-LESS", ALICE, BOB]) == (2, 3, ("U0BOT-LESS",))
    with pytest.raises(Refusal):
        await acks.acknowledge(uow_factory(), caller(BOB, team=OTHER_TEAM), tid)
    counted = await acks.tally(uow_factory(), caller(), tid, StepId.PASSWORDS)
    assert counted.acked == {ALICE, BOB}
