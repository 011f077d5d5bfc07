"""The text after ``/transition`` -> a typed command. Pure: no Slack, no DNS.

``split_command`` gives the first word (lowercase) and the rest; handlers use it to route words.
``parse_command`` turns the whole text into one of the command types below; a new word is a new
dataclass here plus a case in ``parse_command``.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from bot.core.domain import Domain, DomainError, parse_domain

MAX_TEXT = 1000  # Slack allows more; nothing we accept is near this long


@dataclass(frozen=True)
class CheckCommand:
    domain: Domain


@dataclass(frozen=True)
class HelpCommand:
    """``help``, an empty text, or a word we do not know (``unknown`` is that word)."""

    unknown: str | None = None


@dataclass(frozen=True)
class InvalidCommand:
    """A known word with unusable arguments; ``message`` says why and what to type."""

    word: str
    message: str


Command = CheckCommand | HelpCommand | InvalidCommand


def split_command(text: str) -> tuple[str, str]:
    """``" Check  contoso.com "`` -> ``("check", "contoso.com")``; the text is capped first."""
    text = (text or "")[:MAX_TEXT].strip()
    word, _, rest = text.partition(" ")
    return word.lower(), rest.strip()


def parse_command(text: str) -> Command:
    if len(text or "") > MAX_TEXT:
        word, _ = split_command(text)
        return InvalidCommand(word, "That is too long; type `/transition check contoso.com`.")
    word, rest = split_command(text)
    if word in ("", "help"):
        return HelpCommand()
    if word == "check":
        return _parse_check(rest)
    return HelpCommand(unknown=_printable(word)[:40] or "?")


def _printable(text: str) -> str:
    """Drop control and format characters (e.g. a right-to-left override) before echoing."""
    return "".join(ch for ch in text if unicodedata.category(ch)[0] != "C")


def _parse_check(rest: str) -> Command:
    if not rest:
        return InvalidCommand("check", "Which domain? Type `/transition check contoso.com`.")
    try:
        return CheckCommand(parse_domain(rest))
    except DomainError as exc:
        return InvalidCommand("check", exc.message)
