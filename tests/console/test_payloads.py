"""The console's requests are what Slack sends: a real Bolt app verifies and routes them."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

import pytest
from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from bot.console import payloads
from bot.console.forms import FormError, state_values
from bot.console.payloads import ConsoleUser, MessageSurface, ViewSurface
from bot.console.render import render_message
from tests.console.test_render import OWNER_PICKER, START_MODAL, STATUS_MESSAGE

SECRET = "console-test-secret"
ACTOR = ConsoleUser(team_id="T0CONSOLE", user_id="U2", channel_id="C0CONSOLE")


async def _authorize(**_kwargs: Any) -> AuthorizeResult:
    return AuthorizeResult(enterprise_id=None, team_id="T0CONSOLE", bot_token="xoxb-local")


def _app(seen: list[dict[str, Any]]) -> AsyncApp:
    app = AsyncApp(signing_secret=SECRET, authorize=_authorize)

    @app.command("/transition")
    async def on_command(ack: Any, body: dict[str, Any]) -> None:
        seen.append(body)
        await ack(text="ok")

    @app.action("step_done")
    async def on_done(ack: Any, body: dict[str, Any]) -> None:
        seen.append(body)
        await ack()

    @app.view("tenant_start")
    async def on_submit(ack: Any, body: dict[str, Any]) -> None:
        seen.append(body)
        await ack()

    return app


async def _send(app: AsyncApp, body: str, secret: str = SECRET) -> BoltResponse:
    headers = payloads.signed_headers(secret, body)
    return await app.async_dispatch(AsyncBoltRequest(body=body, headers=dict(headers)))


async def test_command_is_verified_and_carries_who_where_and_text() -> None:
    seen: list[dict[str, Any]] = []
    body = payloads.command_body(
        ACTOR, "/transition", "start contoso.com", response_url="http://127.0.0.1:1/r/x"
    )
    response = await _send(_app(seen), body)
    assert response.status == 200 and response.body == "ok"
    (got,) = seen
    assert (got["user_id"], got["channel_id"], got["team_id"]) == ("U2", "C0CONSOLE", "T0CONSOLE")
    assert got["text"] == "start contoso.com"
    assert got["response_url"] == "http://127.0.0.1:1/r/x"
    assert got["trigger_id"].count(".") == 2


async def test_a_wrong_signature_is_refused_like_any_forged_request() -> None:
    seen: list[dict[str, Any]] = []
    body = payloads.command_body(ACTOR, "/transition", "status", response_url="http://x")
    response = await _send(_app(seen), body, secret="not-the-secret")
    assert response.status == 401 and seen == []


async def test_click_on_a_message_button_sends_the_action_message_and_response_url() -> None:
    seen: list[dict[str, Any]] = []
    message = {**STATUS_MESSAGE, "type": "message", "ts": "1700000000.000002"}
    done = render_message(message).buttons[1]
    surface = MessageSurface("C0CONSOLE", "1700000000.000002", message)
    payload = payloads.block_actions_payload(
        ACTOR, done, surface, response_url="http://127.0.0.1:1/response/k"
    )
    response = await _send(_app(seen), payloads.interaction_body(payload))
    assert response.status == 200
    (got,) = seen
    (action,) = got["actions"]
    assert (action["action_id"], action["block_id"], action["value"]) == (
        "step_done",
        "step:partner",
        "partner",
    )
    assert got["container"] == {
        "type": "message",
        "message_ts": "1700000000.000002",
        "channel_id": "C0CONSOLE",
        "is_ephemeral": False,
    }
    assert got["message"]["ts"] == "1700000000.000002"
    assert got["message"]["blocks"] == STATUS_MESSAGE["blocks"]
    assert got["user"]["id"] == "U2" and got["channel"]["id"] == "C0CONSOLE"
    assert got["response_url"] == "http://127.0.0.1:1/response/k"


def test_click_in_an_ephemeral_message_has_no_message_body() -> None:
    done = render_message(STATUS_MESSAGE).buttons[1]
    surface = MessageSurface("C0CONSOLE", "1.2", dict(STATUS_MESSAGE), ephemeral=True)
    payload = payloads.block_actions_payload(ACTOR, done, surface, response_url="http://x/r")
    assert "message" not in payload and payload["container"]["is_ephemeral"] is True


def test_click_in_a_modal_names_the_view() -> None:
    done = render_message(STATUS_MESSAGE).buttons[1]
    view = {**START_MODAL, "id": "V123"}
    payload = payloads.block_actions_payload(ACTOR, done, ViewSurface(view), response_url=None)
    assert payload["container"] == {"type": "view", "view_id": "V123"}
    assert payload["view"]["callback_id"] == "tenant_start"
    assert "response_url" not in payload and "channel" not in payload


async def test_submission_reaches_the_view_listener_with_state_values() -> None:
    seen: list[dict[str, Any]] = []
    view = {**START_MODAL, "id": "V123"}
    values = state_values(view, {"value": "Contoso Ltd"})
    payload = payloads.view_submission_payload(ACTOR, view, values)
    response = await _send(_app(seen), payloads.interaction_body(payload))
    assert response.status == 200
    (got,) = seen
    assert got["view"]["id"] == "V123"
    assert got["view"]["private_metadata"] == '{"channel": "C0CONSOLE"}'
    assert got["view"]["state"]["values"]["name"]["value"]["value"] == "Contoso Ltd"
    assert got["user"]["id"] == "U2" and got["team"]["id"] == "T0CONSOLE"


def test_interaction_body_is_one_form_field_holding_json() -> None:
    body = payloads.interaction_body({"type": "block_actions", "x": "a&b=c"})
    assert list(parse_qs(body)) == ["payload"]
    assert parse_qs(body)["payload"] == ['{"type": "block_actions", "x": "a&b=c"}']


def test_event_envelope_is_an_event_callback_for_the_bot() -> None:
    envelope = payloads.event_envelope(
        ACTOR, {"type": "app_home_opened", "user": "U2", "tab": "home"}, bot_user_id="U0BOT"
    )
    assert envelope["type"] == "event_callback" and envelope["team_id"] == "T0CONSOLE"
    assert envelope["event"]["type"] == "app_home_opened" and "event_ts" in envelope["event"]
    assert envelope["authorizations"][0]["user_id"] == "U0BOT"
    assert envelope["event_id"].startswith("Ev")


async def test_cancelling_a_modal_reaches_view_closed_listeners() -> None:
    seen: list[dict[str, Any]] = []
    app = _app(seen)

    @app.view_closed("tenant_start")
    async def on_closed(ack: Any, body: dict[str, Any]) -> None:
        seen.append(body)
        await ack()

    view = {**START_MODAL, "id": "V123", "notify_on_close": True}
    body = payloads.interaction_body(payloads.view_closed_payload(ACTOR, view))
    response = await _send(app, body)
    assert response.status == 200
    (got,) = seen
    assert got["type"] == "view_closed" and got["view"]["id"] == "V123"
    assert got["user"]["id"] == "U2"


async def test_choosing_in_a_menu_sends_the_choice_as_slack_does() -> None:
    seen: list[dict[str, Any]] = []
    app = _app(seen)

    @app.action("step_assign")
    async def on_assign(ack: Any, body: dict[str, Any]) -> None:
        seen.append(body)
        await ack()

    message = {"type": "message", "ts": "1.000001", "blocks": [OWNER_PICKER]}
    picker = render_message(message).buttons[0]
    surface = MessageSurface("C0CONSOLE", "1.000001", message)
    payload = payloads.block_actions_payload(
        ACTOR, picker, surface, response_url="http://x/r", chosen="U7"
    )
    response = await _send(app, payloads.interaction_body(payload))
    assert response.status == 200
    (got,) = seen
    (action,) = got["actions"]
    assert action["type"] == "users_select" and action["selected_user"] == "U7"
    assert action["block_id"] == "owner:7:software" and action["action_id"] == "step_assign"
    assert got["state"]["values"] == {
        "owner:7:software": {"step_assign": {"type": "users_select", "selected_user": "U7"}}
    }


def test_a_choice_that_is_not_an_option_is_refused() -> None:
    element = {
        "type": "static_select",
        "action_id": "tz",
        "options": [{"text": {"type": "plain_text", "text": "Berlin"}, "value": "Europe/Berlin"}],
    }
    block = {"type": "actions", "block_id": "b", "elements": [element]}
    menu = render_message({"blocks": [block]}).buttons[0]
    surface = MessageSurface("C0CONSOLE", "1.2", {"blocks": [block]})
    payload = payloads.block_actions_payload(
        ACTOR, menu, surface, response_url=None, chosen="berlin"
    )
    assert payload["actions"][0]["selected_option"]["value"] == "Europe/Berlin"
    with pytest.raises(FormError, match="not one of its options"):
        payloads.block_actions_payload(ACTOR, menu, surface, response_url=None, chosen="Paris")
