"""Generated `/transition` texts, correctly signed, posted to the real endpoint.

Every answer is a 200 with a message or a 4xx, never a 5xx or a traceback, and nothing is
written that the text should not write. Where a text can legitimately change state (a valid
`done software` in the tenant's channel), generation keeps to invalid ones.
"""

from __future__ import annotations

from functools import partial

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from bot.core.reminders import ScheduleError, parse_schedule
from bot.core.runbook import RunbookRefusal, step
from tests.fuzz.conftest import fuzz_settings
from tests.fuzz.harness import FuzzBot
from tests.fuzz.strategies import FOREIGN_TEAMS, command_text, hostile_text

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

FRESH_CHANNEL = "C0FRESH"
# Words whose answer posts the runbook and remembers the message's ts (for chat.update later).
POSTS_RUNBOOK = frozenset({"status", "passwords"})


@fuzz_settings(1600)
@given(text=command_text(), team=st.sampled_from(("T0TEST", *FOREIGN_TEAMS)))
async def test_any_text_in_a_channel_without_a_tenant_changes_nothing(
    fuzz_bot: FuzzBot, text: str, team: str
) -> None:
    slack = fuzz_bot.server.slack
    await fuzz_bot.send(
        lambda: slack.command("/transition", text, team_id=team, channel_id=FRESH_CHANNEL),
        what=f"/transition {text!r} from {team} in a fresh channel",
    )


def _changes_state(text: str) -> bool:
    """Whether `text` in the tenant's own channel is a valid state-changing command."""
    words = text.strip().split(None, 1)
    if not words:
        return False
    first, rest = words[0].lower(), (words[1] if len(words) > 1 else "")
    argument = rest.split(None, 1)[0].lower() if rest.split() else ""
    if first in ("done", "skip", "reopen", "request"):
        try:
            step(argument)
        except RunbookRefusal:
            return False
        return True
    if first == "remind":
        if rest.strip().lower() == "off":
            return True
        try:
            parse_schedule(rest.strip())
        except ScheduleError:
            return False
        return True
    return False


@fuzz_settings(1000)
@given(text=command_text())
async def test_invalid_text_in_the_tenants_channel_changes_nothing(
    fuzz_bot: FuzzBot, text: str
) -> None:
    assume(not _changes_state(text))
    slack = fuzz_bot.server.slack
    first = (text.strip().split(None, 1) or [""])[0].lower()
    may_change = frozenset({"slack_messages"}) if first in POSTS_RUNBOOK else frozenset()
    await fuzz_bot.send(
        lambda: slack.command("/transition", text),
        may_change=may_change,
        what=f"/transition {text!r} in the tenant's channel",
    )


# Values 1-6 are valid in every cron field: long lists make long, valid schedules.
cron_field = st.one_of(
    st.sampled_from(("*", "*/5", "1-5", "1")),
    st.lists(st.integers(1, 6), min_size=20, max_size=80).map(lambda xs: ",".join(map(str, xs))),
)


@fuzz_settings(300)
@given(fields=st.lists(cron_field, min_size=5, max_size=5))
async def test_valid_but_long_schedules_set_a_reminder_or_are_refused(
    fuzz_bot: FuzzBot, fields: list[str]
) -> None:
    """Here a change is legitimate (a reminder and its audit line); a crash or a 5xx is not."""
    slack = fuzz_bot.server.slack
    text = 'remind cron "' + " ".join(fields) + '"'
    await fuzz_bot.send(
        lambda: slack.command("/transition", text),
        may_change=frozenset({"reminders", "audit_events"}),
        what=f"/transition {text!r} in the tenant's channel",
    )


STEP_CHANGES = frozenset({"step_states", "audit_events", "slack_messages"})


@fuzz_settings(200)
@given(
    step_id=st.sampled_from(("software", "lync", "partner", "passwords")),
    note=hostile_text,
)
async def test_skip_with_a_hostile_note_then_reopen(
    fuzz_bot: FuzzBot, step_id: str, note: str
) -> None:
    """Valid changes with a hostile note: stored capped, shown in messages Slack accepts."""
    slack = fuzz_bot.server.slack
    for text in (f"skip {step_id} {note}", f"reopen {step_id}"):
        await fuzz_bot.send(
            partial(slack.command, "/transition", text),
            may_change=STEP_CHANGES,
            what=f"/transition {text!r} in the tenant's channel",
        )
