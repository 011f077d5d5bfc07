"""`transition-bot check --source NAME` and `--internal-dns IP[:PORT]` (BIND on loopback, with a
second view as the company's internal DNS server)."""

from __future__ import annotations

import json

import pytest

from bot.cli import main
from tests.dnscheck.test_cli import _clean_env, check  # noqa: F401 (_clean_env is autouse here too)
from tests.support.bind import BindServer
from tests.support.bind_fixtures import ZONES_DIR, BindFactory
from tests.support.zones import make_zone

INTERNAL = "127.0.0.4"


def test_json_carries_the_detected_source(
    bind: BindServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(check(bind, "zoho.test", "--json")) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["source"] == {
        "name": "zoho",
        "title": "Zoho Mail",
        "chosen": False,
        "mail_now": "Mail now goes to Zoho Mail",
    }
    mx = next(r for r in data["records"] if r["id"] == "mx")
    assert mx["verdict"] == "legacy" and "Zoho Mail" in mx["detail"]


def test_source_chosen_on_the_command_line(
    bind: BindServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(check(bind, "hoster.test", "--source", "google-workspace", "--json")) == 1
    source = json.loads(capsys.readouterr().out)["source"]
    assert source["name"] == "google-workspace" and source["chosen"] is True


def test_unknown_source_is_bad_input_and_names_the_choices(
    bind: BindServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(check(bind, "zoho.test", "--source", "lotus", "--json")) == 2
    data = json.loads(capsys.readouterr().out)
    assert data["error"] == "invalid_input" and "google-workspace" in data["message"]


def test_the_table_says_where_mail_goes_and_lists_leftovers_only_after_the_move(
    bind: BindServer, capsys: pytest.CaptureFixture[str]
) -> None:
    main(check(bind, "google.test"))
    before = capsys.readouterr().out
    assert "Mail now goes to Google Workspace." in before and "Left from" not in before
    main(check(bind, "googlemoved.test"))
    after = capsys.readouterr().out
    assert "Left from Google Workspace (remove only once MX has moved" in after
    assert "later: Delete google._domainkey.googlemoved.test TXT" in after


@pytest.fixture
def split_dns(bind_factory: BindFactory) -> BindServer:
    public = (ZONES_DIR / "ownserver.test.zone").read_text()
    internal = make_zone("ownserver.test", ["autodiscover CNAME exch01.ownserver.test.",
                                            "exch01 A 10.0.0.20"])  # fmt: skip
    return bind_factory(
        views={
            "127.0.0.1": {"ownserver.test": public},
            "127.0.0.2": {"ownserver.test": public},
            INTERNAL: {"ownserver.test": internal},
        }
    )


def test_internal_dns_adds_a_local_autodiscover_row(
    split_dns: BindServer, capsys: pytest.CaptureFixture[str]
) -> None:
    internal = f"{INTERNAL}:{split_dns.port}"
    assert main(check(split_dns, "ownserver.test", "--internal-dns", internal, "--json")) == 1
    data = json.loads(capsys.readouterr().out)
    row = next(r for r in data["records"] if r["id"] == "local-autodiscover")
    assert row["verdict"] == "wrong" and row["found"] == ["CNAME exch01.ownserver.test"]
    assert "Set-ClientAccessService" in row["detail"]
    public = next(r for r in data["records"] if r["id"] == "autodiscover")
    assert public["verdict"] == "ok" and public["detail"].startswith("hybrid: keep")

    main(check(split_dns, "ownserver.test", "--internal-dns", internal))
    assert "local-autodiscover" in capsys.readouterr().out


def test_unreachable_internal_dns_is_unknown_not_wrong(
    split_dns: BindServer, capsys: pytest.CaptureFixture[str]
) -> None:
    args = check(split_dns, "ownserver.test", "--internal-dns", "127.0.0.9:9", "--json")
    args += ["--timeout", "0.5"]
    main(args)
    row = next(
        r for r in json.loads(capsys.readouterr().out)["records"] if r["id"] == "local-autodiscover"
    )
    assert row["verdict"] == "unknown"
    assert row["detail"].startswith("could not reach 127.0.0.9 from the bot")


def test_bad_internal_dns_is_refused(bind: BindServer, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(check(bind, "zoho.test", "--internal-dns", "dc01.corp")) == 2
    assert "--internal-dns 'dc01.corp' is not an IP address" in capsys.readouterr().err


def test_another_provider_chosen_by_its_mx_host(
    bind: BindServer, capsys: pytest.CaptureFixture[str]
) -> None:
    args = check(bind, "hoster.test", "--source", "other:mx01.mailhost.example", "--json")
    main(args)
    source = json.loads(capsys.readouterr().out)["source"]
    assert source["name"] == "other:mailhost.example" and source["chosen"] is True
    assert source["title"] == "another provider (mx01.mailhost.example)"
    assert main(check(bind, "hoster.test", "--source", "other:mailhost")) == 2
    assert "--source 'other:mailhost' is not known" in capsys.readouterr().err
