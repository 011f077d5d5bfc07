"""README's quick start works on a Python that refuses `pip install` outside a venv (PEP 668):
each command line makes its venv and uses it, in one line."""

from __future__ import annotations

from tests.test_readme import quick_start_commands

VENV = "python3 -m venv .venv && . .venv/bin/activate && "


def test_the_run_line_makes_a_venv_installs_and_starts_the_console() -> None:
    run, _ = quick_start_commands()
    assert run == VENV + "pip install -e . && transition-bot console"


def test_the_test_line_installs_into_a_venv_too() -> None:
    _, test = quick_start_commands()
    assert VENV + "pip install -e '.[test]' && pytest" in test
