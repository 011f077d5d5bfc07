"""Generated button clicks (block_actions) with forged or missing fields and other workspaces'
team ids, correctly signed: never a 5xx or a traceback, and no state changed by a click that is
not a valid one of the tenant's own workspace."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from bot.blocks.tenant_ids import TenantAction
from tests.fuzz.conftest import fuzz_settings
from tests.fuzz.harness import FuzzBot
from tests.fuzz.strategies import FOREIGN_TEAMS, block_actions

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

OWN_TEAM = "T0TEST"
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


def _may_be_valid(payload: dict[str, Any], tenant_id: int) -> bool:
    """A click from the tenant's own workspace on a state-changing button that names it."""
    if (payload.get("team") or {}).get("id") != OWN_TEAM:
        return False
    actions = payload.get("actions")
    if not isinstance(actions, list) or not actions or not isinstance(actions[0], dict):
        return False
    action = actions[0]
    if action.get("action_id") not in CHANGING:
        return False
    if action.get("action_id") == TenantAction.DNS_RECHECK:
        return True
    return str(action.get("value", "")).strip().startswith(str(tenant_id))


@st.composite
def clicks(draw: st.DrawFn, tenant_id: int) -> dict[str, Any]:
    return draw(block_actions(tenant_id, st.sampled_from((OWN_TEAM, *FOREIGN_TEAMS))))


@fuzz_settings(2500)
@given(data=st.data())
async def test_forged_clicks_change_nothing(fuzz_bot: FuzzBot, data: st.DataObject) -> None:
    payload = data.draw(clicks(fuzz_bot.tenant_id))
    assume(not _may_be_valid(payload, fuzz_bot.tenant_id))
    slack = fuzz_bot.server.slack
    payload["response_url"] = slack.fake.response_url()
    await fuzz_bot.send(lambda: slack.interaction(payload), what=f"block_actions {payload!r}")
