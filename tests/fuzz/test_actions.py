"""Generated button clicks (block_actions) with forged or missing fields and other workspaces'
team ids, correctly signed: never a 5xx or a traceback, and no state changed by a click that is
not a valid one of the tenant's own workspace."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from bot.blocks.ids import TenantAction
from tests.fuzz.conftest import fuzz_settings
from tests.fuzz.harness import FuzzBot
from tests.fuzz.strategies import FOREIGN_TEAMS, block_actions

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

OWN_TEAM = "T0TEST"
TENANT_CHANNEL = "C0CUTOVER"
# Clicks that change the tenant when they come from its own workspace with its id.
CHANGING = frozenset(
    {
        TenantAction.STEP_DONE,
        TenantAction.STEP_REOPEN,
        TenantAction.PASSWORDS_ACK,
        TenantAction.APPROVE,
        TenantAction.REJECT,
        TenantAction.DNS_RECHECK,
    }
)


def _may_be_valid(payload: dict[str, Any]) -> bool:
    """A click from the tenant's own workspace, in its channel, on a state-changing button.

    The runbook buttons act on the channel's tenant (the value only names the step), so any
    value may be a valid click there; those are left to the tests that expect changes.
    """
    if (payload.get("team") or {}).get("id") != OWN_TEAM:
        return False
    actions = payload.get("actions")
    if not isinstance(actions, list) or not actions or not isinstance(actions[0], dict):
        return False
    if actions[0].get("action_id") not in CHANGING:
        return False
    channel = (payload.get("channel") or {}).get("id") or (payload.get("container") or {}).get(
        "channel_id"
    )
    return channel in (TENANT_CHANNEL, None, "")


@st.composite
def clicks(draw: st.DrawFn, tenant_id: int) -> dict[str, Any]:
    return draw(block_actions(tenant_id, st.sampled_from((OWN_TEAM, *FOREIGN_TEAMS))))


@fuzz_settings(1600)
@given(data=st.data())
async def test_forged_clicks_change_nothing(fuzz_bot: FuzzBot, data: st.DataObject) -> None:
    payload = data.draw(clicks(fuzz_bot.tenant_id))
    assume(not _may_be_valid(payload))
    slack = fuzz_bot.server.slack
    payload["response_url"] = slack.fake.response_url()
    await fuzz_bot.send(lambda: slack.interaction(payload), what=f"block_actions {payload!r}")


TENANT_STATE = frozenset(
    {
        "step_states",
        "audit_events",
        "acknowledgements",
        "slack_messages",
        "approval_requests",
        "approval_votes",
    }
)


@fuzz_settings(300)
@given(data=st.data())
async def test_clicks_in_the_tenants_channel_change_only_its_state(
    fuzz_bot: FuzzBot, data: st.DataObject
) -> None:
    """Own workspace, the tenant's channel, any value: the tenant's state may change (these
    are the real buttons' clicks, values forged or not); nothing crashes, nothing else moves."""
    payload = data.draw(block_actions(fuzz_bot.tenant_id, st.just(OWN_TEAM)))
    payload["channel"] = {"id": TENANT_CHANNEL, "name": "cutover"}
    slack = fuzz_bot.server.slack
    payload["response_url"] = slack.fake.response_url()
    await fuzz_bot.send(
        lambda: slack.interaction(payload),
        may_change=TENANT_STATE,
        what=f"block_actions in the tenant's channel {payload!r}",
    )
