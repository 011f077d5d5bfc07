"""Stored secrets: round trip, clear errors for a missing or wrong key, nothing leaks."""

from __future__ import annotations

import argparse
import logging

import pytest
from cryptography.fernet import Fernet

from bot.cli import genkey
from bot.ops.config import ConfigError
from bot.ops.secrets import SecretBox, SecretDecryptionError, generate_key


def test_round_trip_and_ciphertext_hides_value() -> None:
    box = SecretBox(generate_key())
    token = box.encrypt("s3cr3t-value~ü")
    assert "s3cr3t" not in token
    assert box.decrypt(token) == "s3cr3t-value~ü"


@pytest.mark.parametrize("key", [None, ""])
def test_missing_key_names_the_setting(key: str | None) -> None:
    with pytest.raises(ConfigError, match=r"TRANSITION_SECRET_KEY is not set.*genkey"):
        SecretBox(key)


@pytest.mark.parametrize("key", ["short", "x" * 44, "é" * 44])
def test_malformed_key_is_a_config_error(key: str) -> None:
    with pytest.raises(ConfigError, match="not a valid Fernet key") as info:
        SecretBox(key)
    assert key not in str(info.value)


def test_other_key_cannot_decrypt_and_says_what_to_do(caplog: pytest.LogCaptureFixture) -> None:
    token = SecretBox(generate_key()).encrypt("hunter2")
    with caplog.at_level(logging.DEBUG), pytest.raises(SecretDecryptionError) as info:
        SecretBox(generate_key()).decrypt(token)
    assert "Enter the credentials again" in str(info.value)
    assert info.value.__cause__ is None and info.value.__suppress_context__
    assert "hunter2" not in caplog.text


def test_repr_hides_the_key() -> None:
    key = generate_key()
    assert key not in repr(SecretBox(key))


def test_genkey_prints_a_usable_key(capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser()
    genkey.add_arguments(parser)
    assert genkey.run(parser.parse_args([])) == 0
    key = capsys.readouterr().out.strip()
    Fernet(key.encode())  # valid
    assert genkey.run(parser.parse_args(["--env"])) == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith("TRANSITION_SECRET_KEY=") and line != f"TRANSITION_SECRET_KEY={key}"
