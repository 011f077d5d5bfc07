"""`transition-bot console` options: overrides of the environment, and clear refusals."""

from __future__ import annotations

import pytest

from bot.cli import main, parse_args
from bot.console.cli import console_base_settings


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DATABASE_URL", "TRANSITION_NAMESERVERS", "TRANSITION_DNS_PORT"):
        monkeypatch.setenv(name, "")


def test_options_override_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "sqlite:///from-env.db")
    args = parse_args(
        [
            "console",
            "--database",
            "sqlite:////tmp/console.db",
            "--nameserver",
            "127.0.0.1:5353",
            "--dns-port",
            "5353",
        ]
    )
    settings = console_base_settings(args)
    assert settings.database_url == "sqlite+aiosqlite:////tmp/console.db"
    assert settings.dns.nameservers == (("127.0.0.1", 5353),)
    assert settings.dns.auth_port == 5353


def test_database_defaults_to_the_environment_then_the_sqlite_file(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    parse = parse_args
    assert console_base_settings(parse(["console"])).database_url.endswith("transition-bot.db")
    monkeypatch.setenv("DATABASE_URL", "postgres://u@localhost/db")
    assert console_base_settings(parse(["console"])).database_url == (
        "postgresql+asyncpg://u@localhost/db"
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--user", "bob"], "--user 'bob' is not a Slack id (like U123)."),
        (["--channel", "general"], "--channel 'general' is not a Slack id (like C123)."),
        (["--database", "not a url"], "is not a database URL"),
        (["--nameserver", "ns1.example"], "is not an IP address"),
        (["--dns-port", "70000"], "--dns-port 70000 is not a port number."),
    ],
)
def test_bad_options_stop_with_one_line(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["console", *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
