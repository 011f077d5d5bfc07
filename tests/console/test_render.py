"""Block Kit -> terminal text, on blocks shaped like the bot's own messages and modals."""

from __future__ import annotations

from typing import Any

from bot.console.render import PLAIN, Style, mrkdwn, render_message, render_view

ANSI = Style(ansi=True)

STATUS_MESSAGE: dict[str, Any] = {
    "text": "Contoso: 3 of 8 steps done",
    "blocks": [
        {"type": "header", "text": {"type": "plain_text", "text": "Contoso — runbook"}},
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": "*3 of 8 done* · next: _verify data_"},
        },
        {"type": "divider"},
        {
            "type": "section",
            "block_id": "step:software",
            "text": {"type": "mrkdwn", "text": ":white_check_mark: *Software upgrades*"},
            "accessory": {
                "type": "button",
                "action_id": "step_reopen",
                "text": {"type": "plain_text", "text": "Reopen"},
                "value": "software",
            },
        },
        {
            "type": "section",
            "fields": [
                {"type": "mrkdwn", "text": "*DNS*\n6 ok · 1 missing"},
                {"type": "mrkdwn", "text": "*Checked*\n<!date^1700000000^{time}|10:00>"},
            ],
        },
        {
            "type": "actions",
            "block_id": "step:partner",
            "elements": [
                {
                    "type": "button",
                    "action_id": "step_done",
                    "text": {"type": "plain_text", "text": "Done"},
                    "style": "primary",
                    "value": "partner",
                },
                {
                    "type": "button",
                    "action_id": "step_skip",
                    "text": {"type": "plain_text", "text": "Skip"},
                    "value": "partner",
                    "confirm": {
                        "title": {"type": "plain_text", "text": "Skip?"},
                        "text": {"type": "plain_text", "text": "Skip the partner step?"},
                        "confirm": {"type": "plain_text", "text": "Skip"},
                        "deny": {"type": "plain_text", "text": "No"},
                    },
                },
            ],
        },
        {
            "type": "context",
            "elements": [
                {"type": "mrkdwn", "text": "Started by <@U0ADMIN> · <https://x.test/r|report>"},
                {"type": "image", "image_url": "https://x.test/i.png", "alt_text": "logo"},
            ],
        },
    ],
}


def test_message_shows_header_text_fields_context_and_numbered_buttons() -> None:
    rendered = render_message(STATUS_MESSAGE)
    lines = rendered.text.splitlines()
    assert lines[0] == "Contoso — runbook"
    assert "*3 of 8 done* · next: _verify data_" in lines
    assert "-" * 40 in lines
    assert "✅ *Software upgrades*" in lines
    assert "    [1] Reopen" in lines
    assert any(line.startswith("  *DNS*") and line.endswith("*Checked*") for line in lines)
    assert any("6 ok · 1 missing" in line and "10:00" in line for line in lines)
    assert "[2] Done  [3] Skip" in lines
    assert "Started by @U0ADMIN · report (https://x.test/r) · [image: logo]" in lines
    # the fallback text is a notification text: not shown when there are blocks
    assert "Contoso: 3 of 8 steps done" not in rendered.text


def test_buttons_carry_what_a_click_sends() -> None:
    buttons = render_message(STATUS_MESSAGE).buttons
    assert [(b.number, b.text, b.action_id, b.block_id, b.value) for b in buttons] == [
        (1, "Reopen", "step_reopen", "step:software", "software"),
        (2, "Done", "step_done", "step:partner", "partner"),
        (3, "Skip", "step_skip", "step:partner", "partner"),
    ]
    assert buttons[1].style == "primary"
    assert buttons[2].confirm == "Skip the partner step?"


def test_plain_mode_has_no_escape_codes_and_ansi_mode_styles() -> None:
    assert "\x1b[" not in render_message(STATUS_MESSAGE).text
    styled = render_message(STATUS_MESSAGE, ANSI).text
    assert "\x1b[1mContoso — runbook\x1b[0m" in styled
    assert "\x1b[1m3 of 8 done\x1b[0m" in styled  # *bold* became bold
    assert "\x1b[3mverify data\x1b[0m" in styled  # _italic_ became italic
    assert "\x1b[1;32m[2] Done\x1b[0m" in styled  # primary button in green


def test_mrkdwn_links_mentions_entities_and_code() -> None:
    text = "Add <mailto:a@b.test|a@b.test> &amp; <https://portal.test> for <!here> in <#C1|ops>"
    assert mrkdwn(text) == "Add a@b.test & https://portal.test for @here in #ops"
    assert mrkdwn("<@U1> and <@U2|bob>", users={"U1": "alice"}) == "@alice and @bob"
    assert mrkdwn("run `dig MX contoso.com` *now*", ANSI) == (
        "run \x1b[36mdig MX contoso.com\x1b[0m \x1b[1mnow\x1b[0m"
    )
    # markup inside a code span stays literal; a lone asterisk is not bold
    assert mrkdwn("`*.frontbridge.com` 5 * 3", ANSI) == "\x1b[36m*.frontbridge.com\x1b[0m 5 * 3"
    assert mrkdwn("&lt;not a link&gt;") == "<not a link>"


def test_message_without_blocks_shows_its_text() -> None:
    rendered = render_message({"text": ":warning: Which domain? Type `/transition check x`."})
    assert rendered.text == "⚠️ Which domain? Type `/transition check x`."
    assert rendered.buttons == ()


def test_unknown_blocks_are_named_not_dropped() -> None:
    rendered = render_message(
        {"blocks": [{"type": "video", "title": {"type": "plain_text", "text": "v"}}]}
    )
    assert rendered.text.splitlines() == ["[video]"]


OWNER_PICKER: dict[str, Any] = {
    "type": "section",
    "block_id": "owner:7:software",
    "text": {"type": "mrkdwn", "text": "*1. Software upgrades* — open"},
    "accessory": {
        "type": "users_select",
        "action_id": "step_assign",
        "placeholder": {"type": "plain_text", "text": "Owner"},
    },
}


def test_menus_are_numbered_with_the_buttons_and_show_what_is_chosen() -> None:
    picked = {**OWNER_PICKER["accessory"], "initial_user": "U1"}
    rendered = render_message(
        {
            "blocks": [
                OWNER_PICKER,
                {**OWNER_PICKER, "block_id": "owner:7:dns", "accessory": picked},
                STATUS_MESSAGE["blocks"][5],  # [3] Done  [4] Skip
                {
                    "type": "actions",
                    "elements": [
                        {
                            "type": "overflow",
                            "action_id": "more",
                            "options": [
                                {"text": {"type": "plain_text", "text": "History"}, "value": "h"},
                                {"text": {"type": "plain_text", "text": "Remind"}, "value": "r"},
                            ],
                        },
                        {
                            "type": "static_select",
                            "action_id": "pick",
                            "placeholder": {"type": "plain_text", "text": "Pick a step"},
                            "options": [],
                        },
                    ],
                },
            ]
        },
        users={"U1": "alice"},
    )
    lines = rendered.text.splitlines()
    assert "    [1] Owner ▾" in lines
    assert "    [2] Owner: @alice ▾" in lines
    assert "[3] Done  [4] Skip" in lines
    assert "[5] more: History / Remind ▾  [6] Pick a step ▾" in lines
    kinds = [(b.number, b.kind, b.action_id, b.block_id, b.is_menu) for b in rendered.buttons]
    assert kinds[:2] == [
        (1, "users_select", "step_assign", "owner:7:software", True),
        (2, "users_select", "step_assign", "owner:7:dns", True),
    ]
    assert kinds[2][1:] == ("button", "step_done", "step:partner", False)


START_MODAL: dict[str, Any] = {
    "type": "modal",
    "callback_id": "tenant_start",
    "title": {"type": "plain_text", "text": "Start a transition"},
    "submit": {"type": "plain_text", "text": "Start"},
    "close": {"type": "plain_text", "text": "Cancel"},
    "private_metadata": '{"channel": "C0CONSOLE"}',
    "blocks": [
        {"type": "section", "text": {"type": "mrkdwn", "text": "Opens *contoso.com* here."}},
        {
            "type": "input",
            "block_id": "name",
            "label": {"type": "plain_text", "text": "Tenant name"},
            "element": {
                "type": "plain_text_input",
                "action_id": "value",
                "initial_value": "Contoso",
            },
        },
        {
            "type": "input",
            "block_id": "onprem",
            "label": {"type": "plain_text", "text": "On-premises Exchange"},
            "element": {
                "type": "radio_buttons",
                "action_id": "choice",
                "initial_option": {
                    "text": {"type": "plain_text", "text": "No"},
                    "value": "no",
                },
                "options": [
                    {"text": {"type": "plain_text", "text": "Yes"}, "value": "yes"},
                    {"text": {"type": "plain_text", "text": "No"}, "value": "no"},
                ],
            },
        },
        {
            "type": "input",
            "block_id": "approvers",
            "optional": True,
            "label": {"type": "plain_text", "text": "Approvers"},
            "element": {"type": "multi_users_select", "action_id": "users"},
        },
    ],
}


def test_modal_shows_title_inputs_with_names_types_initials_and_options() -> None:
    rendered = render_view(START_MODAL)
    lines = rendered.text.splitlines()
    assert lines[0] == "┌ Modal: Start a transition"
    assert "│ Opens *contoso.com* here." in lines
    assert "│   • Tenant name  value=  (plain text input · name/value)" in lines
    assert "│       now: Contoso" in lines
    assert "│   • On-premises Exchange  choice=  (radio buttons · onprem/choice)" in lines
    assert "│       one of: yes (Yes), no (No)" in lines
    assert "│   • Approvers  users=  (multi users select, optional · approvers/users)" in lines
    assert lines[-1] == "└ `submit` → Start   `close` → Cancel"
    assert [f.name for f in rendered.fields] == ["value", "choice", "users"]


def test_home_tab_has_no_submit_line() -> None:
    rendered = render_view(
        {
            "type": "home",
            "blocks": [{"type": "header", "text": {"type": "plain_text", "text": "Hi"}}],
        }
    )
    assert rendered.text.splitlines() == ["┌ Home tab", "│ Hi"]


def test_plain_mode_is_the_default_style() -> None:
    assert PLAIN.ansi is False


def test_common_emoji_become_characters_and_unknown_ones_stay() -> None:
    assert mrkdwn(":heavy_plus_sign: add · :wastebasket: delete · :no_entry: no") == (
        "➕ add · 🗑 delete · ⛔ no"
    )
    assert mrkdwn(":not_an_emoji_we_know:") == ":not_an_emoji_we_know:"
