"""What a person types as a domain -> a checked domain name, or one clear line of why not.

Accepts a bare domain, an e-mail address, a URL (Slack's ``<http://x|x>`` and ``<mailto:..>``
wrappings too) and international names (IDNA 2008 with UTS #46 mapping, as browsers do).
Pure: no DNS is asked here.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

import idna

MAX_INPUT = 512  # longer than any URL or address a person pastes for a domain
MAX_NAME = 253
MAX_LABEL = 63
EXAMPLE = "e.g. contoso.com"

_LDH_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$")
_SLACK_LINK = re.compile(r"^<([^<>|]*)(?:\|[^<>]*)?>$")
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)


class DomainError(ValueError):
    """The input is not a usable domain; ``str(error)`` is one line for the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Domain:
    ascii: str  # IDNA A-label form, lowercase, no trailing dot: "xn--bcher-kva.de"
    unicode: str  # the same name for people: "bücher.de"

    def __str__(self) -> str:
        return self.ascii


def parse_domain(text: str) -> Domain:
    """Take the domain out of ``text`` or raise :class:`DomainError` saying why not."""
    if not isinstance(text, str):
        raise DomainError(f"Give a domain name, {EXAMPLE}.")
    text = text.strip()
    if not text:
        raise DomainError(f"Give a domain name, {EXAMPLE}.")
    if len(text) > MAX_INPUT:
        raise DomainError(f"That is too long to be a domain name; give the mail domain, {EXAMPLE}.")
    host = _host_part(text)
    shown = _shorten(host or text)
    if not host:
        raise DomainError(f"{_shorten(text)!r} has no domain in it; give one, {EXAMPLE}.")
    if _is_ip(host):
        raise DomainError(f"{shown} is an IP address; give the mail domain, {EXAMPLE}.")
    if host.endswith("."):
        host = host[:-1]
    if any(ch.isspace() for ch in host) or any(ch in host for ch in "/\\;:|&$`'\"<>()*?!{}[]"):
        raise DomainError(
            f"{shown!r} is not a domain name: use letters, digits, hyphens and dots, {EXAMPLE}."
        )
    labels = host.split(".")
    if any(not label for label in labels):
        raise DomainError(f"{shown!r} has an empty label (two dots in a row); {EXAMPLE}.")
    if len(labels) < 2:
        raise DomainError(f"{shown!r} is not a full domain name; give the mail domain, {EXAMPLE}.")
    for label in labels:
        if len(label) > MAX_LABEL:
            raise DomainError(
                f"{_shorten(label)!r} is longer than {MAX_LABEL} characters, "
                "the most a part of a domain name can have."
            )
    if len(host) > MAX_NAME and host.isascii():
        raise DomainError(f"{shown!r} is longer than {MAX_NAME} characters, too long for DNS.")
    try:
        ascii_name = idna.encode(host, uts46=True).decode("ascii").lower()
        unicode_name = idna.decode(ascii_name)
    except (idna.IDNAError, UnicodeError) as exc:
        raise DomainError(f"{shown!r} is not a valid domain name ({_idna_reason(exc)}).") from None
    _check_ascii(ascii_name, shown)
    return Domain(ascii=ascii_name, unicode=unicode_name)


def _host_part(text: str) -> str:
    """The host of a Slack link, URL or e-mail address; else the text itself."""
    match = _SLACK_LINK.match(text)
    if match:
        text = match.group(1).strip()
    if text.lower().startswith("mailto:"):
        text = text[len("mailto:") :]
    if _SCHEME.match(text):
        try:
            host = urlsplit(text).hostname
        except ValueError:
            return ""
        return host or ""
    if "@" in text:
        return text.rpartition("@")[2]
    return text


def _is_ip(host: str) -> bool:
    candidate = host.strip("[]")
    try:
        ipaddress.ip_address(candidate)
    except ValueError:
        # "10.1.2" or "1.2.3.4." are not domains either: an all-digit last label
        last = candidate.rstrip(".").rpartition(".")[2]
        return last.isdigit() and all(p.isdigit() for p in candidate.rstrip(".").split("."))
    return True


def _check_ascii(name: str, shown: str) -> None:
    if len(name) > MAX_NAME:
        raise DomainError(f"{shown!r} is longer than {MAX_NAME} characters, too long for DNS.")
    labels = name.split(".")
    if len(labels) < 2:
        raise DomainError(f"{shown!r} is not a full domain name; give the mail domain, {EXAMPLE}.")
    for label in labels:
        if len(label) > MAX_LABEL:
            raise DomainError(
                f"{_shorten(label)!r} is longer than {MAX_LABEL} characters once encoded for DNS."
            )
        if not _LDH_LABEL.match(label):
            raise DomainError(
                f"{shown!r} is not a domain name: use letters, digits, hyphens and dots, {EXAMPLE}."
            )
    if labels[-1].isdigit():
        raise DomainError(f"{shown!r} ends in a number; give the mail domain, {EXAMPLE}.")


def _idna_reason(exc: Exception) -> str:
    reason = str(exc).split("\n")[0]
    if "U+005F" in reason:
        return "underscores are not allowed in a domain name"
    if "too long" in reason.lower():
        return f"longer than {MAX_NAME} characters once encoded for DNS"
    return _shorten(reason, 80)


def _shorten(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
