"""`transition-bot --help` and `check` import only what they need (the speed figures are in
bench/cli_start.py; nothing here is timed)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from bot.cli import SUBCOMMANDS, main

# The Slack app, its storage and its scheduler: what only the Slack modes need.
APP_ONLY = ("slack_bolt", "slack_sdk", "sqlalchemy", "apscheduler", "msal", "handlers", "storage")


def modules_after(argv: list[str]) -> set[str]:
    """The top-level packages imported by ``transition-bot ARGV`` in a fresh interpreter."""
    code = (
        "import json, sys\n"
        "from bot.cli import main\n"
        "try:\n"
        f"    main({argv!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    return set(json.loads(result.stdout.splitlines()[-1]))


def test_help_imports_no_subcommand() -> None:
    loaded = modules_after(["--help"])
    assert "bot" in loaded  # the probe works
    assert not loaded & {*APP_ONLY, "aiohttp", "dns", "dotenv"}, loaded


def test_check_imports_dns_but_not_the_slack_app() -> None:
    loaded = modules_after(["check", "not a domain!"])
    assert "dns" in loaded
    assert not loaded & set(APP_ONLY), loaded


@pytest.mark.parametrize("name", sorted(SUBCOMMANDS))
def test_every_subcommand_shows_its_own_help(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main([name, "--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: transition-bot {name}")
    assert SUBCOMMANDS[name].help in out


def test_top_level_help_lists_every_subcommand(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for name, subcommand in SUBCOMMANDS.items():
        assert name in out and subcommand.help in out


def test_an_unknown_subcommand_is_refused_with_the_list(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["serv"])
    assert exited.value.code == 2
    assert "invalid choice: 'serv'" in capsys.readouterr().err
