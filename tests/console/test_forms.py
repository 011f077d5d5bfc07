"""A modal's fields and the state.values a `submit` sends, in Slack's shape."""

from __future__ import annotations

from typing import Any

import pytest

from bot.console.forms import FormError, input_fields, state_values
from tests.console.test_render import START_MODAL


def _input(block_id: str, element: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "input",
        "block_id": block_id,
        "label": {"type": "plain_text", "text": block_id},
        "element": element,
    }


def test_untouched_fields_carry_their_initial_values() -> None:
    values = state_values(START_MODAL, {})
    assert values == {
        "name": {"value": {"type": "plain_text_input", "value": "Contoso"}},
        "onprem": {
            "choice": {
                "type": "radio_buttons",
                "selected_option": {"text": {"type": "plain_text", "text": "No"}, "value": "no"},
            }
        },
        "approvers": {"users": {"type": "multi_users_select", "selected_users": []}},
    }


def test_typed_values_by_action_id_block_id_or_both() -> None:
    values = state_values(
        START_MODAL, {"value": "Contoso Ltd", "onprem": "Yes", "approvers.users": "U1, U2"}
    )
    assert values["name"]["value"]["value"] == "Contoso Ltd"
    assert values["onprem"]["choice"]["selected_option"]["value"] == "yes"  # matched by label
    assert values["approvers"]["users"]["selected_users"] == ["U1", "U2"]


def test_empty_text_is_null_as_slack_sends_it() -> None:
    assert state_values(START_MODAL, {"value": ""})["name"]["value"]["value"] is None


def test_unknown_field_and_bad_option_say_what_is_possible() -> None:
    with pytest.raises(FormError, match=r"no field 'colour' \(fields: value, choice, users\)"):
        state_values(START_MODAL, {"colour": "red"})
    with pytest.raises(FormError, match=r"'maybe' is not one of its options \(yes, no\)"):
        state_values(START_MODAL, {"choice": "maybe"})


def test_shared_action_ids_are_named_by_block() -> None:
    view = {
        "type": "modal",
        "blocks": [
            _input("tenant", {"type": "plain_text_input", "action_id": "value"}),
            _input("domains", {"type": "plain_text_input", "action_id": "value"}),
        ],
    }
    assert [f.name for f in input_fields(view)] == ["tenant", "domains"]
    values = state_values(view, {"domains": "contoso.com fabrikam.com", "tenant.value": "C"})
    assert values["domains"]["value"]["value"] == "contoso.com fabrikam.com"
    assert values["tenant"]["value"]["value"] == "C"
    with pytest.raises(FormError, match="ambiguous"):
        state_values(view, {"value": "x"})


@pytest.mark.parametrize(
    ("element", "typed", "expected"),
    [
        ({"type": "number_input", "is_decimal_allowed": False}, "2", {"value": "2"}),
        ({"type": "users_select"}, "U7", {"selected_user": "U7"}),
        ({"type": "conversations_select"}, "C9", {"selected_conversation": "C9"}),
        (
            {"type": "datepicker", "initial_date": "2026-01-01"},
            None,
            {"selected_date": "2026-01-01"},
        ),
        ({"type": "timepicker"}, "09:30", {"selected_time": "09:30"}),
        (
            {
                "type": "checkboxes",
                "options": [
                    {"text": {"type": "mrkdwn", "text": "*Lync*"}, "value": "lync"},
                    {"text": {"type": "plain_text", "text": "MDM"}, "value": "mdm"},
                ],
            },
            "lync,mdm",
            {
                "selected_options": [
                    {"text": {"type": "mrkdwn", "text": "*Lync*"}, "value": "lync"},
                    {"text": {"type": "plain_text", "text": "MDM"}, "value": "mdm"},
                ]
            },
        ),
        (
            {
                "type": "static_select",
                "option_groups": [
                    {
                        "label": {"type": "plain_text", "text": "Europe"},
                        "options": [
                            {
                                "text": {"type": "plain_text", "text": "Paris"},
                                "value": "Europe/Paris",
                            }
                        ],
                    }
                ],
            },
            "Europe/Paris",
            {
                "selected_option": {
                    "text": {"type": "plain_text", "text": "Paris"},
                    "value": "Europe/Paris",
                }
            },
        ),
        ({"type": "static_select", "options": []}, None, {"selected_option": None}),
    ],
)
def test_each_element_type_reports_in_its_own_key(
    element: dict[str, Any], typed: str | None, expected: dict[str, Any]
) -> None:
    view = {"type": "modal", "blocks": [_input("b", {"action_id": "a", **element})]}
    values = state_values(view, {} if typed is None else {"a": typed})
    assert values == {"b": {"a": {"type": element["type"], **expected}}}
