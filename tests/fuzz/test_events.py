"""Generated Events API deliveries (random events and fields, other workspaces, retries):
never a 5xx or a traceback, and nothing written."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz.conftest import fuzz_settings
from tests.fuzz.harness import FuzzBot
from tests.fuzz.strategies import FOREIGN_TEAMS, hostile_text, json_value

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

# app_uninstalled and tokens_revoked legitimately stop a workspace: not generated here.
EVENT_TYPES = ("app_home_opened", "message", "app_mention", "member_joined_channel", "team_join")


@st.composite
def events(draw: st.DrawFn) -> dict[str, Any]:
    event: dict[str, Any] = draw(st.dictionaries(st.text(max_size=10), json_value, max_size=6))
    event["type"] = draw(st.sampled_from(EVENT_TYPES) | hostile_text | json_value)
    if draw(st.booleans()):
        event["user"] = draw(st.sampled_from(("U0ALICE", "U0MALLORY", "")) | json_value)
    if draw(st.booleans()):
        event["tab"] = draw(st.sampled_from(("home", "messages")) | json_value)
    if draw(st.booleans()):
        event["view"] = draw(json_value)
    return event


@fuzz_settings(1000)
@given(
    event=events(),
    team=st.sampled_from(("T0TEST", *FOREIGN_TEAMS)),
    event_id=st.one_of(st.none(), st.text(max_size=70)),
    retry=st.one_of(st.none(), st.integers(0, 3)),
)
async def test_random_events_change_nothing(
    fuzz_bot: FuzzBot, event: dict[str, Any], team: str, event_id: str | None, retry: int | None
) -> None:
    slack = fuzz_bot.server.slack
    await fuzz_bot.send(
        lambda: slack.event(event, team_id=team, event_id=event_id, retry_num=retry),
        what=f"event {event!r} team={team} id={event_id!r} retry={retry}",
    )
