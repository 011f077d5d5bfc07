"""`transition-bot check`: output, JSON shape and exit codes, against the real BIND."""

from __future__ import annotations

import json
import subprocess
import sys

import jsonschema
import pytest

from bot.cli import main
from tests.support.bind import BindServer

VERDICTS = ["ok", "missing", "wrong", "legacy", "conflict", "inconsistent", "unknown"]
IDS = [
    "mx",
    "autodiscover",
    "spf",
    "verification",
    "sip",
    "lyncdiscover",
    "sip-tls",
    "sip-federation",
    "mdm-registration",
    "mdm-enrollment",
    "dkim",
    "dmarc",
    "mta-sts",
    "tls-rpt",
    "msoid",
]
SCHEMA = {  # the object issue 2 specifies
    "type": "object",
    "required": ["domain", "records", "summary"],
    "properties": {
        "domain": {"type": "string"},
        "records": {
            "type": "array",
            "items": {
                "type": "object",
                "required": [
                    "id",
                    "verdict",
                    "name",
                    "type",
                    "expected",
                    "found",
                    "fix",
                    "servers",
                ],
                "properties": {
                    "id": {"enum": IDS},
                    "verdict": {"enum": VERDICTS},
                    "found": {"type": "array", "items": {"type": "string"}},
                    "fix": {"type": "string"},
                    "servers": {
                        "type": "object",
                        "additionalProperties": {"type": "array", "items": {"type": "string"}},
                    },
                },
            },
        },
        "summary": {
            "type": "object",
            "propertyNames": {"enum": VERDICTS},
            "additionalProperties": {"type": "integer"},
        },
    },
}


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("TRANSITION_NAMESERVERS", "TRANSITION_DNS_TIMEOUT", "TRANSITION_DNS_PORT"):
        monkeypatch.delenv(name, raising=False)


def check(bind: BindServer, *args: str) -> list[str]:
    return ["check", *args, "--nameserver", bind.nameserver_arg, "--dns-port", str(bind.port)]


def test_fully_moved_exits_0_with_a_table(
    bind: BindServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(check(bind, "moved.test")) == 0
    out = capsys.readouterr().out
    assert "DNS audit of moved.test" in out
    assert "WARNING: MX already points to Microsoft 365" in out
    assert "Summary: 13 ok" in out


def test_needs_change_exits_1_with_fixes(
    bind: BindServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(check(bind, "https://bpos.test/owa")) == 1
    out = capsys.readouterr().out
    assert "fix: Delete MX 10 mail.global.frontbridge.com" in out
    assert "fix: Add MX 0 <host from the Microsoft 365 admin center" in out


def test_mx_moved_on_some_servers_is_not_called_already_moved(
    bind: BindServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(check(bind, "split.test")) == 1
    out = capsys.readouterr().out
    assert "WARNING: MX points to Microsoft 365 on ns1.split.test only — " in out
    assert "never move MX before the mailbox data is verified" in out
    assert "already points" not in out


def test_json_has_the_issue_shape(bind: BindServer, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(check(bind, "admin@split.test", "--json")) == 1
    data = json.loads(capsys.readouterr().out)
    jsonschema.validate(data, SCHEMA)
    mx = next(r for r in data["records"] if r["id"] == "mx")
    assert mx["verdict"] == "inconsistent"
    assert mx["servers"]["ns2.split.test (127.0.0.2)"] == ["10 mail.global.frontbridge.com"]
    assert data["summary"] == {"inconsistent": 1, "ok": 8, "missing": 4}
    assert data["mx_moved"] == "partial"


def test_settings_come_from_the_environment(
    bind: BindServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TRANSITION_NAMESERVERS", bind.nameserver_arg)
    monkeypatch.setenv("TRANSITION_DNS_PORT", str(bind.port))
    monkeypatch.setenv("TRANSITION_DNS_TIMEOUT", "1")
    assert main(["check", "bücher.test", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["domain"] == "xn--bcher-kva.test" and data["display_domain"] == "bücher.test"


@pytest.mark.parametrize(
    ("domain", "message"),
    [
        ("nothere.test", "nothere.test does not exist in DNS"),
        ("silent.test", "could not reach any authoritative server of silent.test"),
        (";rm -rf /", "is not a domain name"),
        ("192.0.2.7", "is an IP address"),
    ],
)
def test_errors_exit_2_with_one_line_on_stderr(
    bind: BindServer, capsys: pytest.CaptureFixture[str], domain: str, message: str
) -> None:
    assert main([*check(bind, domain), "--timeout", "0.5"]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert err.count("\n") == 1 and "Traceback" not in err


@pytest.mark.parametrize(
    ("domain", "error", "message"),
    [
        ("nothere.test", "nxdomain", "nothere.test does not exist in DNS"),
        (";rm -rf /", "invalid_input", "is not a domain name"),
        ("http://", "invalid_input", ""),
    ],
)
def test_json_errors_are_one_object_on_stdout(
    bind: BindServer, capsys: pytest.CaptureFixture[str], domain: str, error: str, message: str
) -> None:
    assert main([*check(bind, domain), "--json"]) == 2
    captured = capsys.readouterr()
    data = json.loads(captured.out)
    assert data["error"] == error and message in data["message"] and data["message"]
    assert captured.err.count("\n") == 1 and data["message"] in captured.err


def test_only_unknowns_exit_2_not_1(bind: BindServer, capsys: pytest.CaptureFixture[str]) -> None:
    """halfsilent.test: ns3 never answers, so nothing is known and nothing is known wrong."""
    assert main([*check(bind, "halfsilent.test"), "--timeout", "0.5"]) == 2
    captured = capsys.readouterr()
    assert "Summary: 13 unknown" in captured.out  # the table is still printed
    assert captured.err.count("\n") == 1
    assert "could not check mx, autodiscover, spf" in captured.err
    assert "nothing else must change" in captured.err


def test_bad_nameserver_is_an_error_not_a_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "moved.test", "--nameserver", "ns.example"]) == 2
    assert "is not an IP address" in capsys.readouterr().err


def test_console_script_runs_as_a_process(bind: BindServer) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", *check(bind, "premx.test", "--json")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1, result.stderr
    records = {r["id"]: r["verdict"] for r in json.loads(result.stdout)["records"]}
    assert records["mx"] == "wrong" and records["autodiscover"] == "ok"


def test_verdicts_are_plain_in_a_pipe_and_coloured_on_a_terminal(
    bind: BindServer, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("COLUMNS", "80")
    assert main(check(bind, "bpos.test")) == 1
    piped = capsys.readouterr().out
    assert "\x1b[" not in piped and "legacy" in piped
    assert max(len(line) for line in piped.splitlines()) <= 80
    # no host name is cut inside a label at 80 columns
    assert "mail.global.frontbridge.com" in piped.replace("\n", "")  # whole, on one line
    monkeypatch.setenv("FORCE_COLOR", "1")  # what rich does for a terminal
    assert main(check(bind, "bpos.test")) == 1
    coloured = capsys.readouterr().out
    assert "\x1b[35mlegacy" in coloured  # legacy in magenta
