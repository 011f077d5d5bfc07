"""The console's local Web API, driven by slack_sdk's own client as the bot drives it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.console.cli import history_file
from bot.console.payloads import MessageSurface, ViewSurface
from bot.console.render import PLAIN
from bot.console.webapi import BOT_TOKEN, WebApi
from bot.ops.config import ConfigError
from tests.console.test_render import START_MODAL, STATUS_MESSAGE


@pytest.fixture
def printed() -> list[str]:
    return []


@pytest.fixture
def webapi(printed: list[str]) -> Iterator[WebApi]:
    api = WebApi(printed.append, PLAIN, team_id="T0CONSOLE")
    api.start()
    try:
        yield api
    finally:
        api.stop()


def _client(webapi: WebApi, token: str = BOT_TOKEN) -> AsyncWebClient:
    return AsyncWebClient(token=token, base_url=webapi.api_url)


async def test_posted_message_is_printed_and_its_buttons_are_clickable(
    webapi: WebApi, printed: list[str]
) -> None:
    client = _client(webapi)
    sent = await client.chat_postMessage(
        channel="C1", text=STATUS_MESSAGE["text"], blocks=STATUS_MESSAGE["blocks"]
    )
    assert sent["ok"] and sent["channel"] == "C1"
    assert printed[-1].splitlines()[0] == "── #C1 · transition-bot · message 1"
    assert "  [2] Done  [3] Skip" in printed[-1].splitlines()
    found = webapi.clickable()
    assert found is not None
    surface, buttons = found
    assert isinstance(surface, MessageSurface) and surface.ts == sent["ts"]
    assert [b.text for b in buttons] == ["Reopen", "Done", "Skip"]
    # Slack gives blocks without a block_id one of their own, and returns the message
    assert all(b.get("block_id") for b in sent["message"]["blocks"])


async def test_update_edits_in_place_and_a_message_without_buttons_is_skipped(
    webapi: WebApi, printed: list[str]
) -> None:
    client = _client(webapi)
    first = await client.chat_postMessage(channel="C1", blocks=STATUS_MESSAGE["blocks"], text="s")
    await client.chat_postMessage(channel="C1", text="Checking contoso.com…")
    found = webapi.clickable()
    assert found is not None and isinstance(found[0], MessageSurface)
    assert found[0].ts == first["ts"]  # the plain message has no buttons

    await client.chat_update(channel="C1", ts=first["ts"], text="done", blocks=[])
    assert printed[-1] == "── #C1 · transition-bot · message 1 (edited)\n  done"
    assert webapi.clickable() is None
    with pytest.raises(SlackApiError, match="message_not_found"):
        await client.chat_update(channel="C1", ts="1.000000", text="x")


async def test_an_ack_shows_before_what_the_listener_sent_after_acking(
    webapi: WebApi, printed: list[str]
) -> None:
    """Bolt hands the ack back only after the listener went on (an NXDOMAIN respond() can
    arrive first); the console shows them in Slack's order: the ack, then the rest."""
    url = webapi.response_url("C1", "U1")
    webapi.hold_output()
    said = {"text": "nx.test does not exist in DNS"}
    async with aiohttp.ClientSession() as http, http.post(url, json=said) as answer:
        assert answer.status == 200
    await _client(webapi).chat_postMessage(channel="C1", text="a report")
    assert printed == []  # held until the ack is known
    webapi.show_ack("C1", "U1", {"text": "Checking nx.test…"})
    webapi.release_output()
    assert [p.splitlines()[-1].strip() for p in printed] == [
        "Checking nx.test…",
        "nx.test does not exist in DNS",
        "a report",
    ]
    await _client(webapi).chat_postMessage(channel="C1", text="later")  # no longer held
    assert printed[-1].endswith("later")


async def test_wrong_token_is_invalid_auth(webapi: WebApi) -> None:
    with pytest.raises(SlackApiError, match="invalid_auth"):
        await _client(webapi, token="xoxb-other").auth_test()


async def test_modal_needs_an_issued_trigger_id_used_once(
    webapi: WebApi, printed: list[str]
) -> None:
    client = _client(webapi)
    with pytest.raises(SlackApiError, match="invalid_trigger_id"):
        await client.views_open(trigger_id="1.2.3", view=START_MODAL)
    trigger_id = webapi.issue_trigger_id()
    opened = await client.views_open(trigger_id=trigger_id, view=START_MODAL)
    assert printed[-1].startswith("┌ Modal: Start a transition")
    modal = webapi.open_modal()
    assert modal is not None and modal["id"] == opened["view"]["id"]
    with pytest.raises(SlackApiError, match="invalid_trigger_id"):
        await client.views_open(trigger_id=trigger_id, view=START_MODAL)

    webapi.apply_submission_ack({"response_action": "errors", "errors": {"name": "Too short"}})
    assert printed[-1] == "Modal not submitted, fix:\n  name: Too short"
    assert webapi.open_modal() is not None
    webapi.apply_submission_ack({})
    assert webapi.open_modal() is None and printed[-1] == "(modal closed)"


async def test_response_url_replaces_the_clicked_message_or_answers_ephemerally(
    webapi: WebApi, printed: list[str]
) -> None:
    client = _client(webapi)
    sent = await client.chat_postMessage(channel="C1", blocks=STATUS_MESSAGE["blocks"], text="s")
    url = webapi.response_url("C1", "U2", sent["ts"])
    async with aiohttp.ClientSession() as http:
        async with http.post(url, json={"text": "Not an approver", "replace_original": False}):
            pass
        assert printed[-1] == "── #C1 · transition-bot · only visible to @U2\n  Not an approver"
        async with http.post(url, json={"text": "Approved", "replace_original": True}):
            pass
        assert printed[-1] == "── #C1 · transition-bot · message 1 (edited)\n  Approved"
        async with http.post(webapi.base_url + "/response/unknown", json={}) as resp:
            assert resp.status == 404


async def test_home_tab_is_kept_per_user_and_shown_when_asked(
    webapi: WebApi, printed: list[str]
) -> None:
    client = _client(webapi)
    home = {"type": "home", "blocks": STATUS_MESSAGE["blocks"]}
    await client.views_publish(user_id="U2", view=home)
    assert printed[-1] == "(home tab of @U2 updated; `home` shows it)"
    assert webapi.clickable() is None
    webapi.show_home = True
    await client.views_publish(user_id="U2", view=home)
    assert printed[-1].startswith("┌ Home tab")
    found = webapi.clickable()
    assert found is not None and isinstance(found[0], ViewSurface)
    assert webapi.home_view("U2") is not None


async def test_users_and_members(webapi: WebApi) -> None:
    client = _client(webapi)
    webapi.add_member("C1", "U2")
    webapi.add_member("C1", "U1")
    members = await client.conversations_members(channel="C1")
    assert members["members"] == ["U0BOT", "U1", "U2"]
    user = await client.users_info(user="U2")
    assert user["user"]["id"] == "U2" and user["user"]["tz"] == "UTC"


async def test_blocks_slack_would_refuse_are_refused_and_explained(
    webapi: WebApi, printed: list[str]
) -> None:
    client = _client(webapi)
    too_long = [{"type": "header", "text": {"type": "plain_text", "text": "x" * 151}}]
    with pytest.raises(SlackApiError, match="invalid_blocks"):
        await client.chat_postMessage(channel="C1", text="t", blocks=too_long)
    assert printed[-1].startswith("Slack would refuse this chat.postMessage (invalid_blocks):")
    assert "cannot exceed 150 characters" in printed[-1]
    with pytest.raises(SlackApiError, match="invalid_blocks"):
        await client.views_open(
            trigger_id=webapi.issue_trigger_id(),
            view={**START_MODAL, "title": {"type": "plain_text", "text": "y" * 30}},
        )
    assert webapi.open_modal() is None
    webapi.show_ack("C1", "U1", {"text": "t", "blocks": [{"type": "nonsense"}]})
    assert "unknown block type 'nonsense'" in printed[-1]


async def test_closing_a_pushed_modal_shows_the_one_below(
    webapi: WebApi, printed: list[str]
) -> None:
    client = _client(webapi)
    await client.views_open(trigger_id=webapi.issue_trigger_id(), view=START_MODAL)
    pushed = {**START_MODAL, "title": {"type": "plain_text", "text": "Skip a step"}}
    await client.views_push(trigger_id=webapi.issue_trigger_id(), view=pushed)
    assert printed[-1].startswith("┌ Modal: Skip a step")
    closed = webapi.close_modal()
    assert closed is not None and closed["title"]["text"] == "Skip a step"
    assert printed[-2:][0] == "(modal closed)"
    assert printed[-1].startswith("┌ Modal: Start a transition")
    modal = webapi.open_modal()
    assert modal is not None and modal["title"]["text"] == "Start a transition"
    webapi.close_modal()
    assert webapi.open_modal() is None and webapi.close_modal() is None


APPROVAL = {
    "text": "Approval",
    "blocks": [
        {"type": "section", "text": {"type": "mrkdwn", "text": "Approval: Move MX"}},
        {
            "type": "actions",
            "elements": [
                {"type": "button", "text": {"type": "plain_text", "text": t}, "action_id": t}
                for t in ("Approve", "Reject")
            ],
        },
    ],
}


async def test_messages_lists_recent_buttons_newest_first_numbered_for_click(
    webapi: WebApi, printed: list[str]
) -> None:
    client = _client(webapi)
    status = await client.chat_postMessage(channel="C1", text="s", blocks=STATUS_MESSAGE["blocks"])
    await client.chat_postMessage(channel="C2", text="elsewhere", blocks=APPROVAL["blocks"])
    await client.chat_postMessage(channel="C1", text="no buttons")
    approval = await client.chat_postMessage(channel="C1", text="a", blocks=APPROVAL["blocks"])
    printed.clear()

    assert webapi.list_messages("C1", limit=5) == 2
    assert printed[0] == "── #C1 · transition-bot · message 4"
    assert "  [1] Approve  [2] Reject" in printed[1].splitlines()
    assert printed[2] == "── #C1 · transition-bot · message 1"
    assert "  [4] Done  [5] Skip" in printed[3].splitlines()  # numbering runs on
    listed = webapi.buttons_to_click()
    assert [(b.number, b.text) for _, b in listed] == [
        (1, "Approve"),
        (2, "Reject"),
        (3, "Reopen"),
        (4, "Done"),
        (5, "Skip"),
    ]
    assert {s.ts for s, _ in listed if isinstance(s, MessageSurface)} == {
        approval["ts"],
        status["ts"],
    }

    assert webapi.list_messages("C1", limit=1) == 1
    assert len(webapi.buttons_to_click()) == 2
    await client.chat_postMessage(channel="C1", text="s", blocks=STATUS_MESSAGE["blocks"])
    assert [b.text for _, b in webapi.buttons_to_click()] == ["Reopen", "Done", "Skip"]
    assert webapi.list_messages("C9", limit=5) == 0


async def test_channel_messages_are_kept_for_the_next_session(tmp_path: Path) -> None:
    history = tmp_path / "bot.db-console.json"
    printed: list[str] = []
    first = WebApi(printed.append, PLAIN, team_id="T0CONSOLE", history=history)
    first.start()
    try:
        client = _client(first)
        sent = await client.chat_postMessage(channel="C1", text="a", blocks=APPROVAL["blocks"])
        await client.chat_postEphemeral(channel="C1", user="U1", text="only you")
    finally:
        first.stop()

    second = WebApi(printed.append, PLAIN, team_id="T0CONSOLE", history=history)
    second.start()
    try:
        assert second.clickable() is None  # nothing shown yet in this session
        assert second.list_messages("C1", limit=5) == 1  # the ephemeral is gone, as in Slack
        client = _client(second)
        await client.chat_update(channel="C1", ts=sent["ts"], text="decided", blocks=[])
        assert printed[-1] == "── #C1 · transition-bot · message 1 (edited)\n  decided"
        later = await client.chat_postMessage(channel="C1", text="next")
        assert printed[-1].startswith("── #C1 · transition-bot · message 2")
        assert later["ts"] != sent["ts"]
    finally:
        second.stop()


def test_an_unreadable_history_stops_the_console_with_one_line(tmp_path: Path) -> None:
    history = tmp_path / "bot.db-console.json"
    history.write_text("{not json")
    webapi = WebApi(lambda _: None, PLAIN, team_id="T0CONSOLE", history=history)
    with pytest.raises(ConfigError, match=r"bot\.db-console\.json is not a console history"):
        webapi.start()
    assert history.read_text() == "{not json"  # left as it was


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite+aiosqlite:///./transition-bot.db", "transition-bot.db-console.json"),
        ("sqlite+aiosqlite:////var/lib/bot/state.db", "/var/lib/bot/state.db-console.json"),
        ("sqlite+aiosqlite://", None),
        ("sqlite+aiosqlite:///:memory:", None),
    ],
)
def test_the_history_file_sits_beside_a_sqlite_database(url: str, expected: str | None) -> None:
    found = history_file(url)
    assert (None if found is None else str(found)) == expected


def test_other_databases_get_a_history_file_each_in_the_working_directory() -> None:
    one = history_file("postgresql+asyncpg://u@db/one")
    two = history_file("postgresql+asyncpg://u@db/two")
    assert one is not None and two is not None and one != two
    assert one.parent == Path(".") and one.name.startswith("transition-bot-console-")
