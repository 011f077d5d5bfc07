"""A required-settings check reads the setting it names: each one, missing and present.

``serve`` (single token and OAuth) and ``socket`` are run through ``bot.cli.main`` in this
process with the environment README documents; each stops, before it listens, with one line
naming the first missing setting. The processes that start with everything present are in
test_modes.py.
"""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import pytest

from bot.app import socket_mode
from bot.cli import main, serve
from bot.ops.config import SETTINGS, Settings, load_settings, setting_field
from bot.ops.secrets import generate_key

# A value for every setting a mode can require: what README tells the operator to set.
VALUES = {
    "SLACK_BOT_TOKEN": "xoxb-1-entry-test",
    "SLACK_SIGNING_SECRET": "s" * 32,
    "SLACK_APP_TOKEN": "xapp-1-A0-entry-test",
    "SLACK_CLIENT_ID": "1111.2222",
    "SLACK_CLIENT_SECRET": "c" * 32,
    "SLACK_STATE_SECRET": "t" * 32,
    "TRANSITION_SECRET_KEY": generate_key(),
}

MODES = {
    "serve": ("serve", serve.SINGLE_TOKEN),
    "serve-oauth": ("serve", serve.OAUTH),
    "socket": ("socket", socket_mode.REQUIRED),
}

CASES = [(mode, name) for mode, (_, required) in MODES.items() for name in required]


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No Slack or bot setting from the outside, and no .env: an empty working directory."""
    for name in SETTINGS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def test_every_field_read_from_the_environment_is_a_documented_setting() -> None:
    named = [f.metadata["env"] for f in fields(Settings) if "env" in f.metadata]
    assert named and set(named) <= set(SETTINGS)
    assert len(named) == len(set(named))
    for name in named:
        assert setting_field(name) in {f.name for f in fields(Settings)}


@pytest.mark.parametrize("name", sorted(VALUES))
def test_a_required_setting_is_read_from_the_variable_it_names(name: str) -> None:
    settings = load_settings({name: VALUES[name]}, dotenv=False)
    assert getattr(settings, setting_field(name)) == VALUES[name]
    settings.require(name)  # present: no error


def test_an_unknown_setting_name_is_a_bug_not_a_missing_setting() -> None:
    with pytest.raises(KeyError, match="TRANSITION_NO_SUCH"):
        Settings().require("TRANSITION_NO_SUCH")


@pytest.mark.parametrize(("mode", "missing"), CASES)
def test_the_missing_setting_of_a_mode_is_named_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], mode: str, missing: str
) -> None:
    command, required = MODES[mode]
    for name in required:
        if name != missing:
            monkeypatch.setenv(name, VALUES[name])
    assert main([command, "--port", "1"]) == 2
    err = capsys.readouterr().err
    assert err == f"transition-bot: {missing} is not set: set it to {SETTINGS[missing]}.\n"


@pytest.mark.parametrize("mode", sorted(MODES))
def test_with_every_required_setting_present_the_check_passes(mode: str) -> None:
    _, required = MODES[mode]
    settings = load_settings({name: VALUES[name] for name in required}, dotenv=False)
    settings.require(*required)  # the processes that then start: test_modes.py


def test_the_working_directory_env_file_is_read(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SLACK_STATE_SECRET", "")  # restored (unset) after the test:
    monkeypatch.delenv("SLACK_STATE_SECRET")  # .env sets it in os.environ
    (tmp_path / ".env").write_text(f"SLACK_STATE_SECRET={VALUES['SLACK_STATE_SECRET']}\n")
    assert load_settings().slack_state_secret == VALUES["SLACK_STATE_SECRET"]


def test_a_present_but_unusable_secret_key_is_named_before_serve_listens(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in serve.OAUTH:
        monkeypatch.setenv(name, VALUES[name])
    monkeypatch.setenv("TRANSITION_SECRET_KEY", "not-a-fernet-key")
    assert main(["serve", "--port", "1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("transition-bot: TRANSITION_SECRET_KEY is not a valid Fernet key")
    assert err.count("\n") == 1 and "not-a-fernet-key" not in err
