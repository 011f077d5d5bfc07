"""The own-server rule, pure: an MX inside the domain, or one whose address is on premises."""

from __future__ import annotations

import pytest

from bot.dnscheck import sources
from bot.dnscheck.profile import MICROSOFT365
from bot.dnscheck.sources import detect, needs_address, on_premises

D = "contoso.test"
HOST = "mail.it-partner.example"


@pytest.mark.parametrize(
    "address",
    [
        "10.0.0.1",
        "10.255.255.254",
        "172.16.0.1",
        "172.31.255.254",
        "192.168.0.25",
        "fc00::1",
        "fd12:3456:789a::25",
        "::ffff:10.1.2.3",  # IPv4-mapped
    ],
)
def test_on_premises_addresses(address: str) -> None:
    assert on_premises(address)


@pytest.mark.parametrize(
    "address",
    [
        "9.255.255.255",
        "11.0.0.1",
        "172.15.255.255",
        "172.32.0.1",
        "192.169.0.1",
        "100.64.0.1",  # RFC 6598 shared address space: the provider's carrier-grade NAT
        "127.0.0.1",
        "169.254.1.1",
        "192.0.2.25",  # documentation ranges: Python calls them private, they are not on premises
        "203.0.113.25",
        "2001:db8::25",
        "fe80::1",
        "fe00::1",
        "2a00:1450:4001::1b",
        "not an address",
        "",
    ],
)
def test_not_on_premises(address: str) -> None:
    assert not on_premises(address)


@pytest.mark.parametrize("address", ["10.20.30.25", "192.168.1.25", "fd00:20:30::25"])
def test_an_mx_outside_the_domain_at_a_private_address_is_the_own_server(address: str) -> None:
    found = detect(D, [(10, HOST)], [], MICROSOFT365.is_microsoft365_host, {HOST: (address,)})
    assert found.source is not None and found.source.name == sources.OWN_SERVER
    assert found.source.is_host(HOST, D) and found.source.is_host("mail.contoso.test", D)
    assert found.sentence == "Mail now goes to the company's own mail server"


def test_one_on_premises_address_among_public_ones_is_enough() -> None:
    found = detect(D, [(10, HOST)], [], None, {HOST: ("203.0.113.25", "2001:db8::25", "10.0.0.5")})
    assert found.source is not None and found.source.own_server


@pytest.mark.parametrize(
    "addresses",
    [{HOST: ("203.0.113.25", "2001:db8::25")}, {HOST: ("100.64.0.25",)}, {HOST: ()}, {}],
)
def test_a_public_or_unknown_address_is_another_provider_named_by_its_mx_host(
    addresses: dict[str, tuple[str, ...]],
) -> None:
    found = detect(D, [(10, HOST)], [], MICROSOFT365.is_microsoft365_host, addresses)
    assert found.source is not None and found.source.name == "other:it-partner.example"
    assert found.sentence == f"Mail now goes to another provider ({HOST})"


def test_the_lowest_mx_decides_not_a_backup_on_premises() -> None:
    backup = "backup.contoso-internal.example"
    found = detect(D, [(20, backup), (10, HOST)], [], None, {backup: ("10.0.0.9",)})
    assert found.source is not None and found.source.name == "other:it-partner.example"
    own = sources.own_server([(20, backup), (10, HOST)], {backup: ("10.0.0.9",)})
    assert own.mx_hosts == (backup,)  # the own server still knows it, for the cleanup


def test_a_known_platform_wins_over_an_address() -> None:
    found = detect(D, [(1, "aspmx.l.google.com")], [], None, {"aspmx.l.google.com": ("10.0.0.1",)})
    assert found.source is sources.GOOGLE


def test_only_hosts_that_the_address_decides_are_looked_up() -> None:
    exchanges = [
        (0, "contoso-test.mail.protection.outlook.com"),
        (5, "aspmx.l.google.com"),
        (10, "mail.contoso.test"),
        (20, "MX1.It-Partner.Example."),
        (30, "mx1.it-partner.example"),
        (0, "."),
    ]
    assert needs_address(D, exchanges, MICROSOFT365.is_microsoft365_host) == (
        "mx1.it-partner.example",
    )


def test_the_own_server_autodiscover_may_point_at_its_host_outside_the_domain() -> None:
    own = sources.own_server([(10, HOST)], {HOST: ("192.168.0.25",)})
    assert own.is_autodiscover(HOST, D) and own.is_autodiscover(f"autodiscover.{D}", D)
    assert not own.is_autodiscover("autodiscover.it-partner.example", D)
    assert not sources.OWN.is_host(HOST, D)  # without its addresses: not known to be its


@pytest.mark.parametrize(
    ("name", "found"),
    [
        ("other:mx01.hoster.net", "other:hoster.net"),
        (" Other:MX01.Hoster.NET. ", "other:hoster.net"),
        ("other:", None),
        ("other:hoster", None),
        ("other:not a host.net", None),
        ("other:-mx.hoster.net", None),
        ("other:mx..hoster.net", None),
        ("other:" + "a" * 64 + ".net", None),
        ("own-server", "own-server"),
        ("lotus", None),
    ],
)
def test_names_a_person_may_type(name: str, found: str | None) -> None:
    source = sources.by_name(name)
    assert (source.name if source is not None else None) == found


def test_the_detected_provider_is_a_choice_by_its_mx_host() -> None:
    other = detect(D, [(10, "MX01.Hoster.NET.")], [])
    assert other.other_choice == "other:mx01.hoster.net"
    chosen = sources.by_name(other.other_choice)
    assert chosen is not None and chosen.title == other.source.title  # type: ignore[union-attr]
    assert detect(D, [(1, "aspmx.l.google.com")], []).other_choice == ""
    assert detect(D, [(10, "mail.contoso.test")], []).other_choice == ""
    assert detect(D, [], ["_spf.google.com"]).other_choice == ""
