"""`transition-bot serve` checks the settings of the mode it is in before it listens."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

BASE = {"SLACK_SIGNING_SECRET": "s" * 32, "DATABASE_URL": "sqlite:///unused.db"}


def serve(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "TRANSITION_"))}
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "serve", "--port", "1"],
        env={**clean, **BASE, **env},
        cwd=tmp_path,  # no .env here
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("env", "missing"),
    [
        ({}, "SLACK_BOT_TOKEN"),
        ({"SLACK_CLIENT_ID": "1.2", "SLACK_CLIENT_SECRET": "x" * 16}, "SLACK_STATE_SECRET"),
        (
            {
                "SLACK_CLIENT_ID": "1.2",
                "SLACK_CLIENT_SECRET": "x" * 16,
                "SLACK_STATE_SECRET": "y" * 16,
            },
            "TRANSITION_SECRET_KEY",
        ),
    ],
)
def test_serve_names_the_missing_setting_of_its_mode(
    tmp_path: Path, env: dict[str, str], missing: str
) -> None:
    result = serve(tmp_path, **env)
    assert result.returncode == 2
    assert f"{missing} is not set" in result.stderr
    assert "Traceback" not in result.stderr
