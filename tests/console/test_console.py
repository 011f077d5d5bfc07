"""`transition-bot console` end to end: a cutover typed at its prompt, as a subprocess on a
pipe, against real BIND and a SQLite file, asserting on what a person would read."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.console.driver import ConsoleProcess, button_after, buttons
from tests.support.bind import BindServer
from tests.support.bind_fixtures import BindFactory
from tests.support.zones import make_zone, microsoft365_records

DOMAIN = "premx.test"  # every Microsoft 365 record but MX (tests/zones/premx.test.zone)

StartConsole = Callable[..., ConsoleProcess]


@pytest.fixture
def database(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'console.db'}"


@pytest.fixture
def start_console(bind: BindServer, tmp_path: Path, database: str) -> Iterator[StartConsole]:
    """Start ``transition-bot console`` on the test's database and BIND; stdin is a pipe."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "TRANSITION_"))}
    env.pop("DATABASE_URL", None)
    env.pop("NO_COLOR", None)
    env.update({"LOG_LEVEL": "WARNING", "PYTHONUNBUFFERED": "1", "TERM": "dumb"})
    started: list[ConsoleProcess] = []

    def start(*extra: str, tty: bool = False, dns: BindServer = bind) -> ConsoleProcess:
        args = [
            *(sys.executable, "-m", "bot.cli", "console", "--database", database),
            *("--nameserver", dns.nameserver_arg, "--dns-port", str(dns.port), *extra),
        ]
        log = tmp_path / f"console{len(started)}.stderr"
        console = ConsoleProcess(args, env=env, cwd=tmp_path, log=log, tty=tty)
        started.append(console)
        return console

    yield start
    for console in started:
        console.kill()


def _status_line(text: str, step: str) -> str:
    return next(line for line in text.splitlines() if step in line)


def test_a_cutover_typed_at_the_console(start_console: StartConsole) -> None:
    console = start_console()
    assert "type `help`" in console.banner

    # start: the modal shows its fields; submitting posts the runbook and checks DNS
    out = console.send(f"/transition start {DOMAIN}")
    assert "┌ Modal: Start a transition" in out
    assert "domains=" in out and f"now: {DOMAIN}" in out and "approvers=" in out
    out = console.send('submit name="Contoso Ltd" approvers=U1,U2 approvals_needed=2')
    assert "(modal closed)" in out
    assert "Contoso Ltd" in out and "message 1" in out

    out = console.send("/transition status")
    assert "of 9" in out or "of 8" in out
    assert "done" in _status_line(out, "DNS records")  # premx.test passes all but MX

    # an owner for a step, from its menu (a click on a menu says how to use it)
    owner_menu = button_after(out, "Partner of record", "Owner ▾")
    assert "is a menu" in console.send(f"click {owner_menu}")
    out = console.send(f"pick {owner_menu} U2")
    assert "(edited)" in out and "Owner: @U2 ▾" in out

    # a manual step, done by its button
    out = console.send(f"click {button_after(out, 'Software upgrades', 'Done')}")
    assert "(edited)" in out and "done" in _status_line(out, "Software upgrades")

    # MX is refused, with the reason, while the data is not verified
    out = console.send("/transition request mx")
    assert "only visible to @U0ADMIN" in out
    assert "Verify mailbox data" in out and "verified" in out
    assert not buttons(out)

    # verify data by hand, the guide's way: open OWA, see the mail, say so
    out = console.send("/transition mailbox")
    seen = buttons(out)["I see my mail in OWA"][0]
    assert "(opens https://" in console.send("click Open OWA")
    out = console.send(f"click {seen}")
    assert "(edited)" in out and "I see my mail in OWA" not in out  # the button is gone
    assert "done" in _status_line(console.send("/transition status"), "Verify mailbox data")

    out = console.send("/transition request mx")
    approve = buttons(out)["Approve"][0]
    assert "0 of 2" in out

    # two distinct approvers; a stranger and a second click change nothing
    assert console.send("as U3") == ""
    out = console.send(f"click {approve}")
    assert "only visible to @U3" in out and "not an approver" in out
    console.send("as U1")
    out = console.send(f"click {approve}")
    assert "1 of 2" in out
    out = console.send(f"click {approve}")
    assert "only visible to @U1" in out and "already" in out
    console.send("as U2")
    out = console.send(f"click {approve}")
    assert "approved" in out.lower()

    out = console.send("/transition history")
    assert "@U1" in out and "@U2" in out and "approval.approve" in out

    # the background jobs, once: whatever they announce is printed before the prompt
    out = console.send("tick")
    assert out.startswith("(tick: ") and "watch.poll" in out
    assert "failed" not in out
    assert "You can change MX now" in out  # data verified + records ready + approved
    assert "premx-test.mail.protection.outlook.com" in out

    assert console.quit() == 0


def test_state_persists_between_runs_and_bad_input_is_explained(
    start_console: StartConsole,
) -> None:
    first = start_console()
    first.send(f"/transition start {DOMAIN}")
    out = first.send("submit name=Fabrikam approvers=U1 time_zone=Mars/Olympus")
    assert "Modal not submitted, fix:" in out and "time_zone:" in out  # inline modal error
    out = first.send("submit time_zone=Europe/Berlin")  # the other fields keep what was typed
    assert "(modal closed)" in out and "Fabrikam" in out and "Europe/Berlin" in out
    assert first.quit() == 0

    second = start_console("--user", "U1", "--channel", "C0CONSOLE")
    out = second.send("messages 2")  # the first session's messages, with their buttons
    assert out.startswith("── #C0CONSOLE · transition-bot · message 2\n")
    assert "[1] I changed my password" in out
    runbook = out.split("── #C0CONSOLE · transition-bot · message 1\n", 1)[1]
    assert "Fabrikam" in runbook and "[2] Owner ▾" in runbook  # numbered on, for `click`
    assert "is not a number of messages" in second.send("messages 0")
    assert second.send("channel C0OTHER") == ""
    assert second.send("messages") == "No message with buttons in #C0OTHER yet.\n"
    second.send("channel C0CONSOLE")
    out = second.send("/transition status")
    assert "Fabrikam" in out
    assert second.send("submit x=1") == "No modal is open.\n"
    assert "is not a user id" in second.send("as nobody")
    assert "Unknown command" in second.send("frobnicate")
    assert "button" in second.send("click 99")
    out = second.send("/transition start fabrikam.test")
    assert "only visible to @U1" in out and "/transition status" in out  # one tenant a channel
    assert second.quit() == 0


def test_the_ack_shows_before_what_the_bot_sends_after_it(start_console: StartConsole) -> None:
    """An NXDOMAIN answer comes at once, through respond(), while Bolt is still returning the
    ack: Slack shows "Checking…" first, and so must the console."""
    console = start_console()
    out = console.send("/transition check nothere.test")
    assert "Checking nothere.test…" in out and "does not exist in DNS" in out
    assert out.index("Checking nothere.test…") < out.index("does not exist in DNS")
    assert console.quit() == 0


def test_on_a_terminal_the_console_styles_its_output(start_console: StartConsole) -> None:
    console = start_console(tty=True)
    out = console.send(f"/transition start {DOMAIN}")
    assert "\x1b[1m┌ Modal: Start a transition\x1b[0m" in out
    out = console.send("close")
    assert "(modal closed)" in out
    assert console.quit() == 0


def test_on_a_pipe_the_output_is_plain(start_console: StartConsole) -> None:
    console = start_console()
    out = console.send(f"/transition start {DOMAIN}")
    assert "┌ Modal: Start a transition" in out and "\x1b[" not in out
    assert console.quit() == 0


def test_tick_announces_ready_then_mx_moved(
    bind_factory: BindFactory, tmp_path: Path, start_console: StartConsole
) -> None:
    """The watch's announcements, seen by typing `tick` after DNS changes (a private BIND, so
    the test may move MX freely)."""
    domain = "cutover.test"
    records = [
        *microsoft365_records(domain, mx=False),
        "@ MX 10 mail.cutover.test.",
        "mail A 192.0.2.25",
    ]
    bind = bind_factory({domain: make_zone(domain, records, nameservers={"ns1": "127.0.0.1"})})
    console = start_console("--database", f"sqlite:///{tmp_path / 'watch.db'}", dns=bind)
    console.send(f"/transition start {domain}")
    console.send("submit name=Cutover approvers=U1 approvals_needed=1")
    status = console.send("/transition status")
    console.send(f"click {button_after(status, 'Verify mailbox data', 'Done')}")
    approve = buttons(console.send("/transition request mx"))["Approve"][0]
    console.send("as U1")
    assert "approved" in console.send(f"click {approve}").lower()

    out = console.send("tick")
    assert "You can change MX now" in out
    assert "cutover-test.mail.protection.outlook.com" in out

    bind.update_sync(domain, replace={("@", "MX"): ["0 cutover-test.mail.protection.outlook.com."]})
    out = console.send("tick")
    assert "MX now points to Microsoft 365" in out
    assert "You can change MX now" not in out  # each announcement once
    assert "MX now points to Microsoft 365" not in console.send("tick")
    assert console.quit() == 0


def test_the_dns_step_the_watch_completes_shows_its_check(
    bind_factory: BindFactory, tmp_path: Path, start_console: StartConsole
) -> None:
    """The issue's steps: a wrong autodiscover, fixed, then `tick` and `/transition status`.
    The watch completes the step with the same evidence Re-check keeps (each domain's
    result, not "Last check: no domains") and edits the runbook message in place."""
    domain = "fixing.test"
    records = [
        *(r for r in microsoft365_records(domain, mx=False) if not r.startswith("autodiscover")),
        "autodiscover CNAME mail.fixing.test.",
        "@ MX 10 mail.fixing.test.",
        "mail A 192.0.2.25",
    ]
    bind = bind_factory({domain: make_zone(domain, records, nameservers={"ns1": "127.0.0.1"})})
    console = start_console("--database", f"sqlite:///{tmp_path / 'fixing.db'}", dns=bind)
    console.send(f"/transition start {domain}")
    console.send("submit name=Fixing approvers=U1")
    status = console.send("/transition status")
    assert "open" in _status_line(status, "DNS records* —")
    assert f"{domain}: to fix — autodiscover" in status

    bind.update_sync(domain, replace={("autodiscover", "CNAME"): ["autodiscover.outlook.com."]})
    out = console.send("tick")
    assert "(edited)" in out and "done by the bot" in _status_line(out, "DNS records* —")

    status = console.send("/transition status")
    assert "done by the bot" in _status_line(status, "DNS records* —")
    last_check = _status_line(status, "Last check")
    assert domain in last_check and "no domains" not in last_check
    assert console.quit() == 0
