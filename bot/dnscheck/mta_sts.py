"""MTA-STS (RFC 8461) as pure data and rules: the ``_mta-sts`` TXT, the policy file, its mx
patterns. The fetch is :mod:`bot.dnscheck.mta_sts_fetch`; the verdict is
:mod:`bot.dnscheck.mailauth`'s.

https://www.rfc-editor.org/rfc/rfc8461 (§3.1 the TXT record, §3.2 the policy, §3.3 the fetch,
§4.1 how an mx pattern matches a host).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

POLICY_PATH = "/.well-known/mta-sts.txt"
MAX_POLICY_BYTES = 64 * 1024  # §3.3: senders may limit the body; the issue asks 64 KB
_ID = re.compile(r"^[A-Za-z0-9]{1,32}$")  # §3.1: sts-id = 1*32(ALPHA / DIGIT)


def policy_host(domain: str) -> str:
    return f"mta-sts.{domain}"


def policy_url(domain: str, port: int = 443) -> str:
    where = policy_host(domain) if port == 443 else f"{policy_host(domain)}:{port}"
    return f"https://{where}{POLICY_PATH}"


def sts_records(values: Iterable[str]) -> list[str]:
    """§3.1: TXT records that do not begin with "v=STSv1;" are discarded."""
    return [v for v in values if re.match(r"^v=STSv1\s*(;|$)", v)]


def txt_id(record: str) -> str | None:
    """The ``id`` of a ``v=STSv1; id=…`` record; None when it has no valid one (then senders
    ignore the record)."""
    for field in record.split(";")[1:]:
        key, _, value = field.strip().partition("=")
        if key.strip() == "id":
            return value.strip() if _ID.match(value.strip()) else None
    return None


class Mode(StrEnum):
    ENFORCE = "enforce"
    TESTING = "testing"
    NONE = "none"


@dataclass(frozen=True)
class Policy:
    mode: Mode | None
    mx: tuple[str, ...] = ()
    max_age: int | None = None
    errors: tuple[str, ...] = ()  # what makes senders reject the policy as invalid

    @property
    def valid(self) -> bool:
        return not self.errors


def parse_policy(text: str) -> Policy:
    """§3.2: ``key: value`` lines (CRLF or LF); version, mode and max_age once, mx repeated;
    unknown keys ignored."""
    fields: dict[str, list[str]] = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep:
            fields.setdefault(key.strip().lower(), []).append(value.strip())
    errors: list[str] = []
    if fields.get("version") != ["STSv1"]:
        errors.append("no `version: STSv1` line")
    modes = fields.get("mode", [])
    mode = Mode(modes[0]) if len(modes) == 1 and modes[0] in set(Mode) else None
    if mode is None:
        errors.append("no valid `mode:` line (enforce, testing or none)")
    ages = fields.get("max_age", [])
    max_age = int(ages[0]) if len(ages) == 1 and ages[0].isdigit() else None
    if max_age is None:
        errors.append("no valid `max_age:` line")
    mx = tuple(m.lower().rstrip(".") for m in fields.get("mx", []) if m)
    if mode in (Mode.ENFORCE, Mode.TESTING) and not mx:
        errors.append("no `mx:` line")
    return Policy(mode, mx, max_age, tuple(errors))


def mx_matches(pattern: str, host: str) -> bool:
    """§4.1: equal, or ``*.example.com`` for exactly one more label at the left."""
    pattern, host = pattern.lower().rstrip("."), host.lower().rstrip(".")
    if pattern.startswith("*."):
        first, _, rest = host.partition(".")
        return bool(first) and rest == pattern[2:]
    return pattern == host


def covers(policy: Policy, host: str) -> bool:
    return any(mx_matches(p, host) for p in policy.mx)


def wildcard_for(host: str) -> str:
    """The pattern that covers ``host`` and its siblings: ``*.mail.protection.outlook.com``."""
    _, _, parent = host.partition(".")
    return f"*.{parent}" if parent else host


@dataclass(frozen=True)
class PolicyFetch:
    """What the fetch brought: the policy's text, or why there is none (``error``)."""

    url: str
    text: str | None = None
    error: str = ""
