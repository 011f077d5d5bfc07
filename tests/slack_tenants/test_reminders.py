"""Reminders: the commands, and the job driven with a fixed "now" (no waiting)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.jobs.background import SCHEDULER
from bot.jobs.reminders import run_reminders
from bot.services.common import Caller
from bot.services.reminders import set_reminder
from bot.services.steps import assign_owner
from storage.database import Database
from tests.slack_tenants.conftest import BOB, COMMAND, OWNER, start_tenant
from tests.support.fake_slack import BOT_USER, DEFAULT_TEAM, FakeSlack
from tests.support.slack_fixtures import StartServer
from tests.support.slack_requests import DEFAULT_CHANNEL, SlackClient


async def test_remind_list_and_off(slack: SlackClient, fake_slack: FakeSlack) -> None:
    await start_tenant(slack, fake_slack)
    bad = await slack.command(COMMAND, "remind sometimes")
    assert "don't know the schedule" in bad.shown_text and "weekdays 09:00" in bad.shown_text
    ok = await slack.command(COMMAND, "remind weekdays 09:00")
    assert "Reminder set: `weekdays 09:00` (Europe/Berlin)" in ok.shown_text
    twice = await slack.command(COMMAND, 'remind cron "0 9 * * 1-5"')
    assert "already has a reminder at those times: `weekdays 09:00`" in twice.shown_text
    assert twice.json is None or twice.json.get("response_type") != "in_channel"
    cron = await slack.command(COMMAND, 'remind cron "30 16 * * 5"')
    assert "Fri" in cron.shown_text and "16:30" in cron.shown_text
    listed = await slack.command(COMMAND, "reminders")
    assert "weekdays 09:00" in listed.shown_text and 'cron "30 16 * * 5"' in listed.shown_text
    off = await slack.command(COMMAND, "remind off")
    assert "2 removed" in off.shown_text
    assert "No reminders" in (await slack.command(COMMAND, "reminders")).shown_text


async def test_reminder_posts_open_steps_at_local_time_across_dst(
    bot_server: StartServer, fake_slack: FakeSlack, database_url: str
) -> None:
    fake_slack.channel_members[DEFAULT_CHANNEL] = [BOT_USER, OWNER, BOB]
    fake_slack.members_page_size = 2  # Bob is on the second page
    server = await bot_server()
    # this test is the clock: no real-time ticks, and the start-up runs are over
    await server.app[SCHEDULER].pause_and_drain()
    await start_tenant(server.slack, fake_slack)  # Europe/Berlin
    await server.slack.command(COMMAND, "done software")
    db = Database(database_url)
    caller = Caller(DEFAULT_TEAM, OWNER, DEFAULT_CHANNEL)
    # Set on Friday 27 March 2026 (CET, UTC+1); Berlin moves to CEST (UTC+2) on Sunday 29.
    friday = datetime(2026, 3, 27, 12, 0, tzinfo=UTC)
    try:
        await assign_owner(db.uow(), caller, "dns", BOB)
        reminder = await set_reminder(db.uow(), caller, "daily 09:00", now=friday)
        assert reminder.next_run == datetime(2026, 3, 28, 8, 0, tzinfo=UTC)  # 09:00 CET

        assert await run_reminders(server.runtime, now=friday) == 0  # not due yet
        saturday = datetime(2026, 3, 28, 8, 0, 30, tzinfo=UTC)
        assert await run_reminders(server.runtime, now=saturday) == 1
        post = fake_slack.calls_to("chat.postMessage")[-1]
        assert "Sat 28 Mar 09:00 CET" in post.params["text"]
        body = str(post.blocks)
        assert "Passwords" in body and f"not yet: <@{OWNER}>, <@{BOB}>" in body
        assert "Software upgrades" not in body  # done steps are not listed
        assert f"*DNS records* — <@{BOB}>" in body  # with their owners

        assert await run_reminders(server.runtime, now=saturday) == 0  # posted once
        sunday = datetime(2026, 3, 29, 7, 0, 5, tzinfo=UTC)  # 09:00 CEST
        assert await run_reminders(server.runtime, now=sunday) == 1
        assert "Sun 29 Mar 09:00 CEST" in fake_slack.calls_to("chat.postMessage")[-1].params["text"]
    finally:
        await db.dispose()


async def test_missed_runs_post_once_within_grace_and_never_pile_up(
    bot_server: StartServer, fake_slack: FakeSlack, database_url: str
) -> None:
    server = await bot_server()
    # this test is the clock: no real-time ticks, and the start-up runs are over
    await server.app[SCHEDULER].pause_and_drain()
    await start_tenant(server.slack, fake_slack)
    db = Database(database_url)
    caller = Caller(DEFAULT_TEAM, OWNER, DEFAULT_CHANNEL)
    monday = datetime(2026, 6, 1, 6, 0, tzinfo=UTC)  # 08:00 CEST
    try:
        await set_reminder(db.uow(), caller, "daily 09:00", now=monday)
        # Down from Monday 06:00 to Monday 07:20 UTC: the 09:00 CEST run is 20 min late.
        back = monday + timedelta(hours=1, minutes=20)
        assert await run_reminders(server.runtime, now=back) == 1
        assert await run_reminders(server.runtime, now=back + timedelta(seconds=30)) == 0
        # Down for three days: the runs missed are older than the grace; none is posted and
        # the next one is tomorrow's, not a burst of three.
        later = monday + timedelta(days=3, hours=6)
        assert await run_reminders(server.runtime, now=later) == 0
        posts = [c for c in fake_slack.calls_to("chat.postMessage") if "Reminder" in str(c.params)]
        assert len(posts) == 1
        next_day = datetime(2026, 6, 5, 7, 0, 10, tzinfo=UTC)
        assert await run_reminders(server.runtime, now=next_day) == 1
    finally:
        await db.dispose()
