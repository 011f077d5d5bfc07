"""``/transition`` text -> typed command (pure)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.commands import (
    MAX_TEXT,
    CheckCommand,
    HelpCommand,
    InvalidCommand,
    parse_command,
    split_command,
)


def test_check_takes_the_domain() -> None:
    command = parse_command("  CHECK   Contoso.COM ")
    assert isinstance(command, CheckCommand)
    assert command.domain.ascii == "contoso.com"


def test_check_accepts_an_email_address_and_idn() -> None:
    command = parse_command("check admin@bücher.de")
    assert isinstance(command, CheckCommand)
    assert command.domain.ascii == "xn--bcher-kva.de"


@pytest.mark.parametrize(
    "text",
    [
        "check",
        "check not a domain",
        "check http://x",
        "check " + "a" * 300 + ".com",
        "check ;rm -rf /",
        "check 192.0.2.1",
        "check ::1",
    ],
)
def test_bad_check_input_says_why(text: str) -> None:
    command = parse_command(text)
    assert isinstance(command, InvalidCommand)
    assert command.word == "check"
    assert command.message


@pytest.mark.parametrize("text", ["", "help", "HELP me"])
def test_help(text: str) -> None:
    assert parse_command(text) == HelpCommand()


def test_unknown_word_is_help_naming_it() -> None:
    assert parse_command("frobnicate x") == HelpCommand(unknown="frobnicate")


def test_text_is_capped_before_parsing() -> None:
    command = parse_command("check " + "a" * (MAX_TEXT + 10))
    assert isinstance(command, InvalidCommand)
    assert split_command("x" * (MAX_TEXT * 3))[0] == "x" * MAX_TEXT


@given(st.text(max_size=2000))
def test_any_text_parses_to_a_command(text: str) -> None:
    assert isinstance(parse_command(text), CheckCommand | HelpCommand | InvalidCommand)


def test_unknown_word_is_echoed_without_control_characters() -> None:
    assert parse_command("\u202efoo\x07 bar") == HelpCommand(unknown="foo")
