"""Shared by the tenant handlers: who is asking (a Caller from any payload), and refusals as
ephemeral messages that say why and what to do."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from slack_bolt.kwargs_injection.async_args import AsyncArgs

from bot.services.common import Caller, Refusal
from bot.slack.webapi import SlackWebApi


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


def webapi(args: AsyncArgs) -> SlackWebApi:
    """The Web API gateway on the request's client (the workspace's token)."""
    return SlackWebApi(args.client)


async def update_message(
    args: AsyncArgs, where: tuple[str, str] | None, text: str, blocks: Sequence[Any]
) -> bool:
    """chat.update the message in place; False when it cannot be edited (the caller falls
    back)."""
    if where is None:
        return False
    return await webapi(args).update(where[0], where[1], text, blocks)


async def post_message(
    args: AsyncArgs,
    channel: str,
    text: str,
    blocks: Sequence[Any],
    *,
    fallback_blocks: Sequence[Any] | None = None,
) -> str | None:
    """chat.postMessage to the channel; the ts, or None (and an in-channel respond, with
    ``fallback_blocks`` if given) when the bot cannot post there."""
    ts = await webapi(args).post(channel, text, blocks)
    if ts is None and args.respond is not None:
        shown = blocks if fallback_blocks is None else fallback_blocks
        await args.respond(text=text, blocks=list(shown), response_type="in_channel")
    return ts


async def channel_members(args: AsyncArgs, channel: str) -> list[str] | None:
    """The channel's human members (the bot left out); None when Slack does not say."""
    return await webapi(args).channel_members(channel, args.context.bot_user_id)
