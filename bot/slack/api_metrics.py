"""Slack Web API errors by method, seen from inside every client the bot makes.

slack-sdk offers every response (and every connection error) to the client's retry handlers
in order, and Bolt copies the app client's handlers into the client it makes for each request;
so a first "handler" that only looks, and never asks for a retry, sees every call of every
client: the listeners', the jobs', the sender's.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

from bot.ops import metrics

log = logging.getLogger("transition_bot.slack_api")


def method_of(url: str) -> str:
    """``https://slack.com/api/chat.postMessage`` -> ``chat.postMessage``."""
    return url.rstrip("/").rsplit("/", 1)[-1][:64] or "?"


def error_of(response: HttpResponse | None, error: Exception | None) -> str | None:
    """The error label of one attempt, or None when it succeeded."""
    if error is not None:
        return type(error).__name__
    if response is None:
        return None
    if response.status_code >= 400:
        return f"http_{response.status_code}"
    body: Any = response.body
    if isinstance(body, dict) and body.get("ok") is False:
        return str(body.get("error") or "unknown")[:64]
    return None


class ApiErrorCounter(AsyncRetryHandler):
    """Counts each failed attempt in ``transition_slack_api_errors_total``; never retries."""

    def __init__(self) -> None:
        super().__init__(max_retry_count=0)

    async def can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        method = method_of(request.url)
        failed = error_of(response, error)
        if failed is None:
            log.debug("slack api %s ok", method)
        else:
            metrics.SLACK_API_ERRORS.labels(method=method, error=failed).inc()
            log.info("slack api %s failed: %s", method, failed)
        return False
