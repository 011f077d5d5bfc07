"""The one gateway to Slack's Web API for handlers and jobs: posts and edits that report a
refusal instead of raising, channel members read page by page, the admin check.

Each call is made the same way everywhere, so a fix (paging, a bounded wait) is made once.
The outbox sender keeps its own calls: it needs Slack's error and Retry-After for its backoff.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger(__name__)

# Refusals that mean "this message cannot go there": the caller answers another way (the
# response_url). Any other error is a fault and raises, for the listener's apology.
NOT_POSTABLE = frozenset({"not_in_channel", "channel_not_found", "is_archived"})
NOT_UPDATABLE = frozenset(
    {"not_in_channel", "channel_not_found", "cant_update_message", "message_not_found"}
)
MEMBER_PAGES = 20  # pages of 1000: larger channels are not a cutover team
# users.info must answer within this, or the admin check gives up: a trigger_id lives 3 s
# from the click, and the client's 429 handler would otherwise sleep the whole Retry-After.
ADMIN_CHECK_SECONDS = 1.5


def slack_error(exc: SlackApiError) -> str:
    """Slack's error code, or the HTTP status when the body had none."""
    data = exc.response.data if exc.response is not None else None
    if isinstance(data, dict):
        return str(data.get("error"))
    return f"HTTP {getattr(exc.response, 'status_code', '?')}"


class SlackWebApi:
    def __init__(self, client: AsyncWebClient) -> None:
        self.client = client

    async def post(
        self, channel: str, text: str, blocks: Sequence[Any] | None = None, **extra: Any
    ) -> str | None:
        """chat.postMessage; the message's ts, or None when the bot cannot post there (not
        in the channel, archived): the caller falls back to the response_url."""
        try:
            if blocks is not None:
                extra["blocks"] = blocks
            response = await self.client.chat_postMessage(channel=channel, text=text, **extra)
        except SlackApiError as exc:
            if slack_error(exc) not in NOT_POSTABLE:
                raise
            log.info("cannot post to %s: %s", channel, slack_error(exc))
            return None
        return str(response.get("ts") or "") or None

    async def update(self, channel: str, ts: str, text: str, blocks: Sequence[Any]) -> bool:
        """chat.update a message in place; False when it cannot be edited (gone, not in the
        channel): the caller falls back."""
        try:
            await self.client.chat_update(channel=channel, ts=ts, text=text, blocks=blocks)
        except SlackApiError as exc:
            if slack_error(exc) not in NOT_UPDATABLE:
                raise
            log.info("chat.update refused: %s", slack_error(exc))
            return False
        return True

    async def channel_members(self, channel: str, bot_user_id: str | None) -> list[str] | None:
        """The channel's human members (the bot left out); None when Slack does not say."""
        members: list[str] = []
        cursor = None
        try:
            for _ in range(MEMBER_PAGES):
                # POST like every other call (slack_sdk's wrapper uses GET; Slack takes both)
                response = await self.client.api_call(
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
            log.info("conversations.members refused for %s: %s", channel, slack_error(exc))
            return None
        return [m for m in dict.fromkeys(members) if m != bot_user_id]

    async def bot_user_id(self) -> str | None:
        try:
            return str((await self.client.auth_test()).get("user_id") or "") or None
        except SlackApiError:
            return None

    async def is_workspace_admin(self, user_id: str) -> bool | None:
        """True / False from users.info; None when Slack did not answer in time (rate
        limited, slow): the caller refuses and the person tries again."""
        try:
            response = await asyncio.wait_for(
                self.client.api_call("users.info", params={"user": user_id}),
                ADMIN_CHECK_SECONDS,
            )
        except TimeoutError:
            log.info("users.info for %s: no answer within %.1f s", user_id, ADMIN_CHECK_SECONDS)
            return None
        except SlackApiError as exc:
            error = exc.response.get("error")
            log.info("users.info for %s failed: %s", user_id, error)
            return None if error == "ratelimited" else False
        user = response.get("user") or {}
        return bool(user.get("is_admin") or user.get("is_owner"))
