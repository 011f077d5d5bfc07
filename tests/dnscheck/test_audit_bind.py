"""The audit against a real BIND on loopback, one zone per situation (tests/zones)."""

from __future__ import annotations

from dataclasses import replace

from bot.dnscheck.audit import audit_domain
from bot.dnscheck.model import Audit, AuditErrorKind, Verdict
from bot.dnscheck.profile import MICROSOFT365
from tests.dnscheck.test_evaluate import usual
from tests.support.bind import BindServer
from tests.support.bind_fixtures import BindFactory
from tests.support.zones import make_zone, microsoft365_records

NS1, NS2 = "127.0.0.1", "127.0.0.2"


def verdicts(audit: Audit) -> dict[str, str]:
    return {r.id: r.verdict.value for r in audit.records}


def fix(audit: Audit, record_id: str) -> str:
    result = audit.record(record_id)
    assert result is not None, record_id
    return result.fix


async def test_domain_still_on_bpos(bind: BindServer) -> None:
    audit = await audit_domain("bpos.test", bind.dns_config())
    assert audit.error is None
    assert audit.servers == ("ns1.bpos.test (127.0.0.1)", "ns2.bpos.test (127.0.0.2)")
    assert verdicts(audit) == {
        "mx": "legacy",
        "autodiscover": "missing",
        "spf": "wrong",
        "verification": "missing",
        "sip": "missing",
        "lyncdiscover": "missing",
        "sip-tls": "missing",
        "sip-federation": "missing",
        "mdm-registration": "missing",
        "mdm-enrollment": "missing",
        "dkim": "missing",
        "dmarc": "missing",
        "mta-sts": "ok",
        "msoid": "legacy",
    }
    assert fix(audit, "mx") == (
        f"Add MX 0 {usual('bpos-test')}\nDelete MX 10 mail.global.frontbridge.com"
    )
    # mail is still sent from BPOS until MX moves: the fix keeps its include
    assert fix(audit, "spf") == (
        'Change TXT "v=spf1 include:spf.frontbridge.com -all" to '
        '"v=spf1 include:spf.frontbridge.com include:spf.protection.outlook.com -all"'
    )
    assert audit.source == "bpos" and audit.mail_now == "Mail now goes to BPOS/FOPE"
    assert fix(audit, "msoid") == "Delete msoid.bpos.test CNAME clientconfig.microsoftonline-p.net"
    assert fix(audit, "autodiscover") == "Add autodiscover.bpos.test CNAME autodiscover.outlook.com"
    assert not audit.mx_on_microsoft365 and audit.needs_change


async def test_every_record_but_mx(bind: BindServer) -> None:
    audit = await audit_domain("premx.test", bind.dns_config())
    assert verdicts(audit) == {i: "ok" for i in MICROSOFT365.record_ids} | {"mx": "wrong"}
    mx = audit.record("mx")
    assert mx is not None and mx.found == ("10 mail.premx.test",) and mx.ttl == 300
    assert mx.fixes == (
        f"Add MX 0 {usual('premx-test')}",
        "Delete MX 10 mail.premx.test",
    )
    spf = audit.record("spf")
    assert spf is not None and spf.detail == "2 DNS lookups (limit 10)"


async def test_fully_moved(bind: BindServer) -> None:
    audit = await audit_domain("moved.test", bind.dns_config())
    assert set(verdicts(audit).values()) == {"ok"}
    assert audit.summary() == {"ok": 13}
    assert not audit.needs_change
    assert audit.mx_on_microsoft365
    assert audit.mx_servers_on_microsoft365 == (
        "ns1.moved.test (127.0.0.1)",
        "ns2.moved.test (127.0.0.2)",
    )
    mx = audit.record("mx")
    assert mx is not None and mx.ttl == 3600 and mx.resolver == mx.found


async def test_servers_that_disagree(bind: BindServer) -> None:
    audit = await audit_domain("split.test", bind.dns_config())
    mx = audit.record("mx")
    assert mx is not None and mx.verdict is Verdict.INCONSISTENT
    assert mx.servers == {
        "ns1.split.test (127.0.0.1)": ("0 split-test.mail.protection.outlook.com",),
        "ns2.split.test (127.0.0.2)": ("10 mail.global.frontbridge.com",),
    }
    assert "ns2.split.test (127.0.0.2) has 10 mail.global.frontbridge.com" in mx.detail
    assert mx.fix.startswith("Make ns2.split.test (127.0.0.2) serve the same as ns1.split.test")
    assert not audit.mx_on_microsoft365
    assert audit.mx_servers_on_microsoft365 == ("ns1.split.test (127.0.0.1)",)
    assert verdicts(audit)["autodiscover"] == "ok"


async def test_mistakes(bind: BindServer) -> None:
    audit = await audit_domain("mistakes.test", bind.dns_config())
    v = verdicts(audit)
    assert (v["spf"], v["autodiscover"], v["sip-federation"]) == ("conflict", "wrong", "wrong")
    assert v["mx"] == v["sip-tls"] == v["verification"] == "ok"
    assert fix(audit, "autodiscover") == (
        "Change autodiscover.mistakes.test CNAME to autodiscover.outlook.com"
    )
    assert fix(audit, "sip-federation") == (
        "Change _sipfederationtls._tcp.mistakes.test SRV to 100 1 5061 sipfed.online.lync.com"
    )
    assert fix(audit, "spf").startswith("Replace the 2 SPF records with one:")
    assert v["mdm-registration"] == "conflict"
    assert fix(audit, "mdm-registration") == (
        "Delete enterpriseregistration.mistakes.test A 192.0.2.80\n"
        "Add enterpriseregistration.mistakes.test CNAME enterpriseregistration.windows.net"
    )
    registration = audit.record("mdm-registration")
    assert registration is not None and registration.found == ("A 192.0.2.80",)
    assert "(A 192.0.2.80)" in registration.detail
    assert fix(audit, "mdm-enrollment") == (
        "Add enterpriseenrollment.mistakes.test CNAME enterpriseenrollment.manage.microsoft.com"
    )


async def test_spf_lookups_counted_through_real_includes(bind: BindServer) -> None:
    audit = await audit_domain("lookups.test", bind.dns_config())
    spf = audit.record("spf")
    assert spf is not None and spf.verdict is Verdict.WRONG
    # a.spf and b.spf alone reach 12: the walk asks no further, as a receiver stops at 11
    assert spf.detail == (
        "receivers treat this SPF record as an error (permerror), as if it were absent: "
        "needs at least 12 DNS lookups (limit 10, RFC 7208 section 4.6.4)"
    )
    assert spf.fix == (
        "Cut the SPF record to 10 DNS lookups or fewer (it needs at least 12): flatten an include "
        "into the ip4:/ip6: ranges it lists, or remove the include of a sender the domain no "
        "longer uses (include:a.spf.lookups.test costs 6, include:b.spf.lookups.test costs 3)"
    )


async def test_nxdomain(bind: BindServer) -> None:
    audit = await audit_domain("nothere.test", bind.dns_config())
    assert audit.error is AuditErrorKind.NXDOMAIN
    assert audit.error_message == "nothere.test does not exist in DNS"
    assert audit.records == ()


async def test_server_that_never_answers_is_unknown_not_missing(bind: BindServer) -> None:
    audit = await audit_domain("silent.test", bind.dns_config(timeout=0.5))
    assert audit.error is AuditErrorKind.UNREACHABLE
    assert audit.error_message.startswith("could not reach any authoritative server of silent.test")
    assert "ns.silent.test (127.0.0.3): timeout" in audit.error_message
    assert set(verdicts(audit).values()) == {"unknown"}


async def test_one_silent_server_of_two_leaves_records_unknown(bind: BindServer) -> None:
    audit = await audit_domain("halfsilent.test", bind.dns_config(timeout=0.5))
    assert audit.error is None
    assert set(verdicts(audit).values()) == {"unknown"}
    spf = audit.record("spf")
    assert spf is not None
    assert spf.servers["ns1.halfsilent.test (127.0.0.1)"] == (
        "v=spf1 include:spf.protection.outlook.com -all",
    )
    assert spf.servers["ns3.halfsilent.test (127.0.0.3)"] == ("<timeout>",)
    assert "ns3.halfsilent.test (127.0.0.3): timeout" in spf.detail


async def test_international_domain(bind: BindServer) -> None:
    audit = await audit_domain("xn--bcher-kva.test", bind.dns_config())
    assert audit.display_domain == "bücher.test"
    assert verdicts(audit)["mx"] == "ok" and audit.mx_on_microsoft365


async def test_resolver_that_never_answers(bind: BindServer) -> None:
    config = bind.dns_config(timeout=0.5)
    silent = replace(config, nameservers=(("127.0.0.3", bind.port),))
    audit = await audit_domain("moved.test", silent)
    assert audit.error is AuditErrorKind.UNREACHABLE
    assert audit.error_message.startswith("could not reach the DNS resolver 127.0.0.3:")


async def test_a_record_changed_mid_test_on_both_servers(bind_factory: BindFactory) -> None:
    zone = "watch.test"
    text = make_zone(zone, [*microsoft365_records(zone, mx=False), "@ MX 10 mail.watch.test."])
    server = bind_factory(views={NS1: {zone: text}, NS2: {zone: text}})
    config = server.dns_config()
    assert verdicts(await audit_domain(zone, config))["mx"] == "wrong"
    new_mx = "0 watch-test.mail.protection.outlook.com."
    await server.set_records(zone, "@", "MX", new_mx, servers=[NS1])
    half = await audit_domain(zone, config)
    assert verdicts(half)["mx"] == "inconsistent"
    assert half.mx_servers_on_microsoft365 == ("ns1.watch.test (127.0.0.1)",)
    await server.set_records(zone, "@", "MX", new_mx)
    after = await audit_domain(zone, config)
    assert verdicts(after)["mx"] == "ok" and after.mx_on_microsoft365
    await server.update(zone, replace={("autodiscover", "CNAME"): []})
    assert verdicts(await audit_domain(zone, config))["autodiscover"] == "missing"


async def test_a_lone_server_with_generated_zones(bind_factory: BindFactory) -> None:
    zones = {
        f"d{i}.test": make_zone(
            f"d{i}.test", microsoft365_records(f"d{i}.test"), nameservers={"ns1": NS1}
        )
        for i in range(20)
    }
    server = bind_factory(zones)
    audit = await audit_domain("d7.test", server.dns_config())
    assert audit.servers == ("ns1.d7.test (127.0.0.1)",)
    assert not audit.needs_change and audit.mx_on_microsoft365


async def test_name_servers_without_glue_are_looked_up(bind_factory: BindFactory) -> None:
    hosted = make_zone(
        "hosted.test",
        microsoft365_records("hosted.test"),
        nameservers={"ns1.dnshost.test.": NS1, "ns2.dnshost.test.": NS2},
    )
    dnshost = make_zone("dnshost.test")
    zones = {"hosted.test": hosted, "dnshost.test": dnshost}
    server = bind_factory(views={NS1: zones, NS2: zones})
    audit = await audit_domain("hosted.test", server.dns_config())
    assert audit.servers == ("ns1.dnshost.test (127.0.0.1)", "ns2.dnshost.test (127.0.0.2)")
    assert not audit.needs_change


async def test_a_mail_domain_inside_a_larger_zone(bind_factory: BindFactory) -> None:
    # mail.parent.test is not a zone of its own: its servers are parent.test's
    records = [
        line.replace("@", "mail", 1) if line.startswith("@") else line.replace(" ", ".mail ", 1)
        for line in microsoft365_records("mail.parent.test")
    ]
    zones = {"parent.test": make_zone("parent.test", records)}
    server = bind_factory(views={NS1: zones, NS2: zones})
    audit = await audit_domain("mail.parent.test", server.dns_config())
    assert audit.servers == ("ns1.parent.test (127.0.0.1)", "ns2.parent.test (127.0.0.2)")
    mx = audit.record("mx")
    assert mx is not None and mx.name == "mail.parent.test"
    assert mx.servers["ns2.parent.test (127.0.0.2)"] == (
        "0 mail-parent-test.mail.protection.outlook.com",
    )
    assert not audit.needs_change


async def test_an_answer_too_large_for_udp_is_asked_again_over_tcp(
    bind_factory: BindFactory,
) -> None:
    zone = "bigtxt.test"
    # 20 TXT records of 100 characters: over the 1232-byte EDNS payload, so BIND truncates
    padding = [f'@ TXT "pad{i:02d}-{"x" * 94}"' for i in range(20)]
    text = make_zone(zone, [*microsoft365_records(zone), *padding], nameservers={"ns1": NS1})
    server = bind_factory({zone: text})
    audit = await audit_domain(zone, server.dns_config())
    assert not audit.needs_change, verdicts(audit)
    spf = audit.record("spf")
    assert spf is not None
    assert spf.servers == {
        "ns1.bigtxt.test (127.0.0.1)": ("v=spf1 include:spf.protection.outlook.com -all",)
    }
