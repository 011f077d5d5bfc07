"""The one SSL context of every HTTPS fetch the bot makes (Slack, Microsoft Graph and login,
MTA-STS policies): the system CAs plus ``TRANSITION_CA_BUNDLE``. Verification is never off."""

from __future__ import annotations

import ssl
from functools import lru_cache


@lru_cache(maxsize=8)
def ssl_context(ca_bundle: str | None = None) -> ssl.SSLContext:
    """System CAs, plus the PEM file ``ca_bundle`` (an extra CA: a lab's or a test's).

    Cached per bundle: loading the system store costs milliseconds, and a context is only read.
    """
    context = ssl.create_default_context()
    if ca_bundle:
        context.load_verify_locations(cafile=ca_bundle)
    return context
