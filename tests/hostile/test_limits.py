"""bot.core.limits: what a payload is cut down to, and which ids are refused."""

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from bot.core.limits import MAX_DEPTH, MAX_ITEMS, MAX_STRING, bad_ids, cap, shape_errors
from bot.slack.http_guard import describe

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5000),
    lambda inner: st.lists(inner, max_size=150) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=300,
)


def _bounded(value: Any, depth: int = 0) -> bool:
    if isinstance(value, str):
        return len(value) <= MAX_STRING
    if isinstance(value, dict):
        return (
            depth < MAX_DEPTH
            and len(value) <= MAX_ITEMS
            and all(_bounded(k) and _bounded(v, depth + 1) for k, v in value.items())
        )
    if isinstance(value, list):
        return (
            depth < MAX_DEPTH
            and len(value) <= MAX_ITEMS
            and all(_bounded(v, depth + 1) for v in value)
        )
    return True


@given(json_values)
def test_every_capped_value_is_bounded(value: Any) -> None:
    assert _bounded(cap(value))


def test_short_values_pass_unchanged() -> None:
    body = {"text": "check contoso.com", "actions": [{"value": "12:dns"}], "n": 3}
    assert cap(body) == body


def test_nul_characters_are_dropped() -> None:
    assert cap({"text": "a\x00b", "k\x00": ["\x00"]}) == {"text": "ab", "k": [""]}


def test_long_text_is_cut_to_the_limit() -> None:
    assert cap({"text": "x" * 10_000})["text"] == "x" * MAX_STRING


def test_deep_nesting_is_dropped() -> None:
    deep: Any = "leaf"
    for _ in range(MAX_DEPTH + 5):
        deep = [deep]
    capped = cap(deep)
    depth = 0
    while isinstance(capped, list):
        capped, depth = capped[0], depth + 1
    assert capped is None and depth == MAX_DEPTH


def test_slack_ids_pass_and_forged_ones_are_named() -> None:
    good = {"team_id": "T0TEST", "user": {"id": "U0ALICE", "team_id": "T0TEST"}, "channel_id": ""}
    assert bad_ids(good) == []
    forged = {
        "team": {"id": "T0; DROP TABLE tenants"},
        "user_id": ["U1"],
        "channel": {"id": "c" * 40},
        "enterprise_id": None,
    }
    assert sorted(bad_ids(forged)) == ["channel.id", "team.id", "user_id"]


def test_event_objects_in_id_places_are_not_ids_to_check() -> None:
    assert bad_ids({"event": {"user": {"id": "U1", "name": "x"}, "channel": "C1"}}) == []


def test_an_event_needs_a_plain_event_id() -> None:
    event = {"type": "event_callback", "team_id": "T1", "event": {"type": "app_home_opened"}}
    assert bad_ids({**event, "event_id": "Ev08MFMKH6"}) == []
    assert bad_ids({**event, "event_id": "Ev\x00; DROP"}) == ["event_id"]
    assert bad_ids({**event}) == ["event_id"]


def test_view_state_must_be_inputs_with_slacks_types() -> None:
    def view(values: object) -> dict[str, object]:
        return {
            "type": "view_submission",
            "view": {"type": "modal", "callback_id": "x", "state": {"values": values}},
        }

    good = {"b": {"a": {"type": "plain_text_input", "value": "x"}}}
    assert shape_errors(view(good)) == []
    assert shape_errors(view({"b": {"a": {"selected_users": ["U1", "W2"]}}})) == []
    assert shape_errors(view({"b": 5}))
    assert shape_errors(view({"b": {"a": {"value": 5}}}))
    assert shape_errors(view({"b": {"a": {"selected_users": ["U1", "x" * 40]}}}))
    assert shape_errors(view({"b": {"a": {"selected_users": "U1"}}}))
    assert shape_errors(view({"b": {"a": {"selected_channel": "c; drop"}}}))


def test_what_a_request_is_goes_into_one_log_line() -> None:
    kind, what = describe({"command": "/transition", "text": "check\nFAKE ERROR line x"})
    assert (kind, what) == ("command", "/transition check?FAKE")
    assert describe({"type": "block_actions", "actions": [{"action_id": "a\r\x1b[31m"}]}) == (
        "action",
        "a??[31m",
    )
