"""Shared by the tenant handlers: who is asking (a Caller from any payload), and refusals as
ephemeral messages that say why and what to do."""

from __future__ import annotations

import json
import logging
from typing import Any

from slack_bolt.kwargs_injection.async_args import AsyncArgs
from slack_sdk.errors import SlackApiError

from bot.services.common import Caller, Refusal

log = logging.getLogger(__name__)


def caller_from(body: dict[str, Any], channel_id: str | None = None) -> Caller:
    """A Caller from a command, a block action or a view submission payload."""
    team = body.get("team_id") or (body.get("team") or {}).get("id") or ""
    user = body.get("user_id") or (body.get("user") or {}).get("id") or ""
    enterprise = body.get("enterprise_id") or (body.get("enterprise") or {}).get("id") or ""
    if channel_id is None:
        channel_id = (
            body.get("channel_id")
            or (body.get("channel") or {}).get("id")
            or (body.get("container") or {}).get("channel_id")
            or ""
        )
    return Caller(
        team_id=str(team),
        user_id=str(user),
        channel_id=str(channel_id),
        enterprise_id=str(enterprise or ""),
    )


def message_of(body: dict[str, Any]) -> tuple[str, str] | None:
    """(channel, ts) of the message a button was clicked on, if it can be edited."""
    container = body.get("container") or {}
    if container.get("is_ephemeral"):
        return None
    channel = container.get("channel_id") or (body.get("channel") or {}).get("id")
    ts = container.get("message_ts") or (body.get("message") or {}).get("ts")
    return (str(channel), str(ts)) if channel and ts else None


def metadata(view: dict[str, Any]) -> dict[str, Any]:
    try:
        data = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _error(exc: SlackApiError) -> str:
    data = exc.response.data if exc.response is not None else None
    if isinstance(data, dict):
        return str(data.get("error"))
    return f"HTTP {getattr(exc.response, 'status_code', '?')}"


def refusal_text(refusal: Refusal) -> str:
    return f":no_entry: {refusal.message}"


async def refuse(args: AsyncArgs, refusal: Refusal) -> None:
    """Tell only the person who asked: in the ack of a command, else an ephemeral respond
    (Slack shows nothing of a button click's ack body)."""
    if args.ack is not None and args.ack.response is None:
        if args.body.get("type") != "block_actions":
            await args.ack(text=refusal_text(refusal))
            return
        await args.ack()
    await args.respond(
        text=refusal_text(refusal), response_type="ephemeral", replace_original=False
    )


async def tell(args: AsyncArgs, text: str) -> None:
    """An ephemeral note after the ack."""
    await args.respond(text=text, response_type="ephemeral", replace_original=False)


async def update_message(
    args: AsyncArgs, where: tuple[str, str] | None, text: str, blocks: list[Any]
) -> bool:
    """chat.update the message in place; False when Slack refuses (the caller falls back)."""
    if where is None:
        return False
    try:
        await args.client.chat_update(channel=where[0], ts=where[1], text=text, blocks=blocks)
        return True
    except SlackApiError as exc:
        log.info("chat.update refused: %s", _error(exc))
        return False


async def post_message(args: AsyncArgs, channel: str, text: str, blocks: list[Any]) -> str | None:
    """chat.postMessage to the channel; the ts, or None (and an in-channel respond) when the
    bot cannot post there."""
    try:
        response = await args.client.chat_postMessage(channel=channel, text=text, blocks=blocks)
        return str(response.get("ts") or "") or None
    except SlackApiError as exc:
        log.info("cannot post to %s: %s", channel, _error(exc))
        if args.respond is not None:
            await args.respond(text=text, blocks=blocks, response_type="in_channel")
        return None


async def channel_members(client: Any, channel: str, bot_user_id: str | None) -> list[str] | None:
    """The channel's human members (the bot left out); None when Slack does not say."""
    members: list[str] = []
    try:
        cursor = None
        for _ in range(20):  # 20 pages of 1000: larger channels are not a cutover team
            # POST like every other call (slack_sdk's wrapper uses GET; Slack takes both)
            response = await client.api_call(
                "conversations.members",
                params={
                    "channel": channel,
                    "limit": 1000,
                    **({"cursor": cursor} if cursor else {}),
                },
            )
            members.extend(str(m) for m in response.get("members") or [])
            cursor = (response.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                break
    except SlackApiError as exc:
        log.info("conversations.members refused for %s: %s", channel, _error(exc))
        return None
    return [m for m in dict.fromkeys(members) if m != bot_user_id]
