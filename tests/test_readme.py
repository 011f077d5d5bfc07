"""README stays true to the code: every setting is documented, and CI runs README's command."""

import re
from pathlib import Path

from bot.dnscheck.profile import MICROSOFT365
from bot.ops.config import SETTINGS

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def quick_start_commands() -> list[str]:
    section = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.+?)\n```", section)


def test_every_setting_is_in_the_configuration_table() -> None:
    table = README.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    missing = [name for name in SETTINGS if f"| `{name}` |" not in table]
    assert not missing, f"README's configuration table lacks {missing}"


def test_quick_start_has_a_run_and_a_test_command() -> None:
    run, test = quick_start_commands()
    assert "pip install" in run and "transition-bot" in run
    # a fresh machine's Python refuses pip outside a venv (PEP 668): both lines make one
    for command in (run, test):
        assert "python3 -m venv .venv && . .venv/bin/activate" in command
    assert "apt-get install -y bind9 bind9-utils postgresql" in test
    assert "pip install -e '.[test]'" in test and test.endswith("pytest")


def test_ci_runs_the_readme_test_command_in_a_fresh_clone() -> None:
    """.ci/run reads README's test command rather than keeping a copy that could drift, and runs
    it in a fresh clone, where anything not committed or outside the repository is missing."""
    ci = (ROOT / ".ci" / "run").read_text()
    assert 'Path("README.md").read_text().split("## Quick start", 1)' in ci
    assert 'git clone --quiet "$(pwd)"' in ci
    assert 'bash -ec "$command"' in ci


def test_every_record_id_and_expected_from_are_in_the_readme() -> None:
    text = README
    ids = {r.id for r in MICROSOFT365.records} | {r.id for r in MICROSOFT365.legacy_records}
    assert {i for i in ids if f"`{i}`" not in text} == set()
    assert "`expected_from`" in text and "`tenant`" in text and "`default`" in text
