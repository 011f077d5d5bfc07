"""Generated modal submissions (view_submission) with wrong types, forged metadata and other
workspaces' ids: never a 5xx or a traceback, and nothing written by an invalid one."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from bot.blocks.ids import ViewId
from bot.core.runbook import RunbookRefusal, step
from tests.fuzz.conftest import fuzz_settings
from tests.fuzz.harness import FuzzBot
from tests.fuzz.strategies import FOREIGN_TEAMS, form_values, hostile_text, json_value, mostly

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

OWN_TEAM = "T0TEST"
CALLBACKS = (ViewId.START.value, ViewId.SKIP.value)


@st.composite
def metadata(draw: st.DrawFn, tenant_id: int) -> str:
    meta: Any = {
        "tenant": draw(st.sampled_from((tenant_id, tenant_id + 1000)) | json_value),
        "step": draw(st.sampled_from(("dns", "lync", "mx", "software")) | hostile_text),
        "channel": draw(st.sampled_from(("C0CUTOVER", "C0FRESH", "")) | hostile_text),
        "ts": draw(st.sampled_from(("1700000000.000100", "")) | hostile_text),
    }
    return draw(st.one_of(st.just(json.dumps(meta)), hostile_text, json_value.map(json.dumps)))


@st.composite
def skip_values(draw: st.DrawFn) -> Any:
    reason = hostile_text | json_value
    return draw(
        st.one_of(
            reason.map(lambda r: {"reason": {"value": {"type": "plain_text_input", "value": r}}}),
            json_value,
        )
    )


def _skips_for_real(team: str, callback: str, meta_text: str) -> bool:
    """A skip of a real step of the tenant's channel from its own workspace: a valid change."""
    if team != OWN_TEAM or callback != ViewId.SKIP.value:
        return False
    try:
        meta = json.loads(meta_text)
    except ValueError:
        return False
    if not isinstance(meta, dict) or meta.get("channel") != "C0CUTOVER":
        return False
    try:
        step(str(meta.get("step")))
    except RunbookRefusal:
        return False
    return True


@fuzz_settings(1200)
@given(data=st.data())
async def test_invalid_submissions_change_nothing(fuzz_bot: FuzzBot, data: st.DataObject) -> None:
    callback = data.draw(st.sampled_from(CALLBACKS) | st.text(max_size=20))
    team = data.draw(st.sampled_from((OWN_TEAM, *FOREIGN_TEAMS)))
    meta = data.draw(metadata(fuzz_bot.tenant_id))
    assume(not _skips_for_real(team, callback, meta))
    values = data.draw(form_values() if callback == ViewId.START.value else skip_values())
    slack = fuzz_bot.server.slack
    await fuzz_bot.send(
        lambda: slack.view_submission(callback, values, private_metadata=meta, team_id=team),
        what=f"view_submission {callback!r} team={team} meta={meta!r} values={values!r}",
    )


TENANT_TABLES = frozenset(
    {
        "workspaces",
        "tenants",
        "tenant_domains",
        "tenant_approvers",
        "step_states",
        "audit_events",
        "slack_messages",
    }
)
GOOD_DOMAINS = ("premx.test", "moved.test", "bücher.test", "contoso.com contoso.de")
_channels = iter(range(10**6))


def _input(value: Any) -> dict[str, Any]:
    return {"value": {"type": "plain_text_input", "value": value}}


@fuzz_settings(300)
@given(
    name=hostile_text,
    domains=st.sampled_from(GOOD_DOMAINS),
    # Mostly valid, so that tenants do get opened with the hostile name beside them.
    time_zone=mostly(st.sampled_from(("UTC", "Europe/Berlin")), hostile_text),
    partner=mostly(st.sampled_from(("", "1234567")), hostile_text),
    internal=mostly(st.sampled_from(("", "10.0.0.53")), hostile_text),
    approvers=st.lists(st.sampled_from(("U0ALICE", "U0BOB", "W0GRID")), min_size=2, max_size=5),
    needed=mostly(st.sampled_from(("1", "2")), st.sampled_from(("0", "11")) | hostile_text),
)
@example(  # pinned: PostgreSQL refuses NUL in text (found by this test)
    name="a\x00b",
    domains="premx.test",
    time_zone="UTC",
    partner="",
    internal="",
    approvers=["U0ALICE", "U0BOB"],
    needed="1",
)
async def test_start_forms_with_hostile_text_open_one_tenant_or_are_refused(
    fuzz_bot: FuzzBot,
    name: str,
    domains: str,
    time_zone: str,
    partner: str,
    internal: str,
    approvers: list[str],
    needed: str,
) -> None:
    """Valid domains in a fresh channel: a tenant may be opened (that is the point), the rest
    of the form is hostile; nothing may crash, and nothing outside the tenant's rows changes."""
    values = {
        "name": _input(name),
        "domains": _input(domains),
        "onprem": {"value": {"type": "radio_buttons", "selected_option": {"value": "no"}}},
        "internal_dns": _input(internal),
        "time_zone": _input(time_zone),
        "approvers": {"value": {"type": "multi_users_select", "selected_users": approvers}},
        "approvals_needed": {"value": {"type": "number_input", "value": needed}},
        "partner_id": _input(partner),
    }
    meta = json.dumps({"channel": f"C0NEW{next(_channels)}"})
    slack = fuzz_bot.server.slack
    await fuzz_bot.send(
        lambda: slack.view_submission(ViewId.START, values, private_metadata=meta),
        may_change=TENANT_TABLES,
        what=f"tenant.start {values!r}",
    )


STEP_CHANGES = frozenset({"step_states", "audit_events", "slack_messages"})


@fuzz_settings(200)
@given(step_id=st.sampled_from(("software", "lync", "partner")), reason=hostile_text)
async def test_skip_modal_with_a_hostile_reason_then_reopen(
    fuzz_bot: FuzzBot, step_id: str, reason: str
) -> None:
    """A valid skip whose reason is hostile (up to 4 kB): stored capped, and every message
    that shows it is one Slack accepts."""
    slack = fuzz_bot.server.slack
    meta = json.dumps(
        {"tenant": fuzz_bot.tenant_id, "step": step_id, "channel": "C0CUTOVER", "ts": "1.2"}
    )
    await fuzz_bot.send(
        lambda: slack.view_submission(
            ViewId.SKIP, {"reason": _input(reason)}, private_metadata=meta
        ),
        may_change=STEP_CHANGES,
        what=f"skip {step_id} because {reason!r}",
    )
    await fuzz_bot.send(
        lambda: slack.command("/transition", f"reopen {step_id}"),
        may_change=STEP_CHANGES,
        what=f"reopen {step_id}",
    )
