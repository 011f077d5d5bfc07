"""Generated HTTP headers around a valid `/transition` command body: signing headers missing,
empty, not numbers, far off, repeated or of the wrong shape; odd content types, charsets and
encodings; junk retry headers. Never a 5xx or a traceback, nothing written, and a request
that is not correctly signed gets a 401 or a 400."""

from __future__ import annotations

import time

import aiohttp
import pytest
from hypothesis import given
from hypothesis import strategies as st
from multidict import CIMultiDict

from tests.fuzz.conftest import fuzz_settings
from tests.fuzz.harness import FuzzBot
from tests.support.slack_requests import SlackResponse, sign

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

# What a header value can hold on the wire (latin-1, no line breaks: aiohttp refuses those).
header_text = st.text(
    st.characters(min_codepoint=0x20, max_codepoint=0xFF, blacklist_characters="\x7f"),
    max_size=80,
)
NOW = "now"  # the timestamp the request is signed with
TIMESTAMPS = st.one_of(
    st.none(),  # missing
    st.just(NOW),
    st.sampled_from(("", " ", "0", "-1", "1e9", "1.5", "NaN", "١٢٣", "0x10", "+1", "1_000")),
    st.integers(-(10**20), 10**20).map(str),
    st.just("9" * 5000),  # beyond int()'s digit limit
    st.integers(0, 10**7).map(lambda delta: str(int(time.time()) + 10**8 + delta)),  # far future
    header_text,
)
SIGNATURES = st.one_of(
    st.none(),
    st.just("valid"),
    st.just("valid-upper"),  # the right HMAC in upper case: Slack sends lower case
    st.sampled_from(("", "v0=", "v0=00", "v1=" + "0" * 64, "v0=" + "g" * 64, "v0=" + "é" * 64)),
    st.binary(min_size=0, max_size=40).map(lambda b: "v0=" + b.hex()),
    header_text,
)
CONTENT_TYPES = st.one_of(
    st.sampled_from(
        (
            "application/x-www-form-urlencoded",
            "application/x-www-form-urlencoded; charset=utf-8",
            "application/x-www-form-urlencoded; charset=bogus-9",
            "application/json",
            "application/json; charset=latin-1",
            "text/plain",
            "multipart/form-data; boundary=x",
            "multipart/form-data",
            "",
        )
    ),
    header_text,
)
EXTRA = st.lists(
    st.tuples(
        st.sampled_from(
            (
                "X-Slack-Retry-Num",
                "X-Slack-Retry-Reason",
                "Content-Encoding",
                "X-Slack-Request-Timestamp",
                "X-Slack-Signature",
                "X-Forwarded-For",
                "Accept-Charset",
            )
        ),
        header_text,
    ),
    max_size=3,
)


def _headers(
    body: str,
    secret: str,
    timestamp: str | None,
    signature: str | None,
    content_type: str,
    extra: list[tuple[str, str]],
) -> tuple[CIMultiDict[str], bool]:
    """The headers, and whether the request is correctly signed (exactly one good pair)."""
    now = int(time.time())
    sent_ts = str(now) if timestamp == NOW else timestamp
    good = sign(secret, body, now)
    sent_sig = {"valid": good, "valid-upper": good.upper()}.get(signature or "", signature)
    headers: CIMultiDict[str] = CIMultiDict()
    headers["Content-Type"] = content_type
    if sent_ts is not None:
        headers.add("X-Slack-Request-Timestamp", sent_ts)
    if sent_sig is not None:
        headers.add("X-Slack-Signature", sent_sig)
    for name, value in extra:
        headers.add(name, value)
    signed = headers.getall("X-Slack-Request-Timestamp", []) == [str(now)] and headers.getall(
        "X-Slack-Signature", []
    ) == [good]
    return headers, signed


async def _post(url: str, body: str, headers: CIMultiDict[str]) -> SlackResponse:
    async with (
        aiohttp.ClientSession(skip_auto_headers=("Content-Type",)) as session,
        session.post(url, data=body.encode(), headers=headers) as response,
    ):
        return SlackResponse(response.status, await response.text(errors="replace"))


@fuzz_settings(600)
@given(
    signing=st.one_of(st.just((NOW, "valid")), st.tuples(TIMESTAMPS, SIGNATURES)),
    content_type=CONTENT_TYPES,
    extra=EXTRA,
    word=st.sampled_from(("help", "history", "reminders")),  # none of them writes
)
async def test_junk_headers_get_a_4xx_never_a_5xx(
    fuzz_bot: FuzzBot,
    signing: tuple[str | None, str | None],
    content_type: str,
    extra: list[tuple[str, str]],
    word: str,
) -> None:
    slack = fuzz_bot.server.slack
    body = slack.command_body("/transition", word)
    timestamp, signature = signing
    headers, signed = _headers(
        body, slack.signing_secret, timestamp, signature, content_type, extra
    )
    response = await fuzz_bot.send(
        lambda: _post(slack.url, body, headers),
        what=f"/transition {word} with headers {list(headers.items())!r}"[:600],
    )
    if not signed:
        assert response.status in (400, 401, 415), (response.status, response.text[:200])
