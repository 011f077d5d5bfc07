"""pytest plugin: the fuzz suite's request counts, added up where the run ends.

Each fuzz test records its tally in its report (``fuzz_requests``, ``fuzz``), so the counts add
up in pytest-xdist's controller too, which collects nothing and loads no ``tests/fuzz``
conftest. When every fuzz test ran, fewer than ``MINIMUM_REQUESTS`` fails the run.
"""

from __future__ import annotations

import os

import pytest

# Full size by default (CI runs it so); TRANSITION_FUZZ_SCALE=0.1 runs a tenth, for a quick pass.
SCALE = float(os.environ.get("TRANSITION_FUZZ_SCALE", "1"))
MINIMUM_REQUESTS = int(8_000 * SCALE)
FUZZ_DIR = "tests/fuzz/"

_counts: dict[str, tuple[int, str]] = {}  # node id -> (requests, tally line)
_collected: set[str] = set()  # fuzz test ids this run was to run
_finished: set[str] = set()  # fuzz test ids whose teardown reported


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    _collected.update(i.nodeid for i in items if i.nodeid.startswith(FUZZ_DIR))


@pytest.hookimpl(optionalhook=True)  # pytest-xdist's hook: the ids a worker collected
def pytest_xdist_node_collection_finished(node: object, ids: list[str]) -> None:
    _collected.update(i for i in ids if i.startswith(FUZZ_DIR))


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when != "teardown" or not report.nodeid.startswith(FUZZ_DIR):
        return
    _finished.add(report.nodeid)
    properties = dict(report.user_properties)
    if "fuzz_requests" in properties:
        _counts[report.nodeid] = (int(properties["fuzz_requests"]), str(properties["fuzz"]))


def _total() -> int:
    return sum(requests for requests, _ in _counts.values())


def _whole_suite_ran() -> bool:
    return bool(_collected) and _collected <= _finished


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if getattr(session.config, "workerinput", None) is not None:
        return  # an xdist worker: the controller has every test's count
    if _whole_suite_ran() and _total() < MINIMUM_REQUESTS:
        session.exitstatus = 1


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not _counts:
        return
    terminalreporter.write_sep("=", "fuzz")
    for name, (_, line) in sorted(_counts.items()):
        terminalreporter.write_line(f"  {name}: {line}")
    terminalreporter.write_line(f"fuzz: {_total()} requests in all (scale {SCALE:g})")
    if _whole_suite_ran() and _total() < MINIMUM_REQUESTS:
        terminalreporter.write_line(
            f"fuzz: fewer than {MINIMUM_REQUESTS} requests: failing the run"
        )
