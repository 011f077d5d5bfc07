"""Source platforms recognised from real zones (BIND on loopback): what mail comes from, the MX
verdict naming it, the SPF fix keeping its include before the move, the hybrid autodiscover,
and what is left to remove after the move."""

from __future__ import annotations

from bot.core import dns_step
from bot.dnscheck.audit import audit_domain
from bot.dnscheck.model import Audit, RecordResult, Verdict
from bot.dnscheck.report import to_json
from bot.dnscheck.sources import by_name
from tests.support.bind import BindServer


def record(audit: Audit, rid: str) -> RecordResult:
    found = audit.record(rid)
    assert found is not None, rid
    return found


async def test_google_workspace_before_the_move(bind: BindServer) -> None:
    audit = await audit_domain("google.test", bind.dns_config(timeout=3.0))
    assert audit.source == "google-workspace" and not audit.source_chosen
    assert audit.mail_now == "Mail now goes to Google Workspace"
    mx = record(audit, "mx")
    assert mx.verdict is Verdict.LEGACY and "Google Workspace" in mx.detail
    assert "Delete MX 1 aspmx.l.google.com" in mx.fixes
    spf = record(audit, "spf")
    # both includes: right before the move; Google's is kept while it still sends
    assert spf.verdict is Verdict.OK and spf.fixes == ()
    assert "keeps include:_spf.google.com" in spf.detail and "until MX has moved" in spf.detail
    assert dns_step.passes(audit)  # the dns step does not fail on Google's records
    assert to_json(audit)["source"]["name"] == "google-workspace"


async def test_zoho_eu_spf_fix_keeps_zohos_include(bind: BindServer) -> None:
    audit = await audit_domain("zoho.test", bind.dns_config(timeout=3.0))
    assert audit.source == "zoho" and audit.mail_now == "Mail now goes to Zoho Mail"
    mx = record(audit, "mx")
    assert mx.verdict is Verdict.LEGACY and "Zoho Mail" in mx.detail
    spf = record(audit, "spf")
    assert spf.verdict is Verdict.WRONG
    assert spf.fixes == (
        'Change TXT "v=spf1 include:zoho.eu ~all" to '
        '"v=spf1 include:zoho.eu include:spf.protection.outlook.com ~all"',
    )


async def test_own_server_hybrid_autodiscover_is_kept_not_wrong(bind: BindServer) -> None:
    plain = await audit_domain("ownserver.test", bind.dns_config(timeout=3.0))
    assert record(plain, "autodiscover").verdict is Verdict.CONFLICT  # not hybrid: to fix
    audit = await audit_domain("ownserver.test", bind.dns_config(timeout=3.0), hybrid=True)
    assert audit.source == "own-server"
    assert audit.mail_now == "Mail now goes to the company's own mail server"
    autodiscover = record(audit, "autodiscover")
    assert autodiscover.verdict is Verdict.OK and autodiscover.fixes == ()
    assert autodiscover.detail.startswith("hybrid: keep until the last mailbox has moved")
    assert "A 192.0.2.25" in autodiscover.detail
    assert "then: " in autodiscover.detail and "autodiscover.outlook.com" in autodiscover.detail
    spf = record(audit, "spf")
    assert spf.fixes == (
        'Change TXT "v=spf1 mx -all" to "v=spf1 mx include:spf.protection.outlook.com -all"',
    )


async def test_another_provider_is_named_by_its_mx_host(bind: BindServer) -> None:
    audit = await audit_domain("hoster.test", bind.dns_config(timeout=3.0))
    assert audit.source == "other:mailhost.example"
    assert audit.mail_now == "Mail now goes to another provider (mx01.mailhost.example)"
    assert record(audit, "mx").verdict is Verdict.WRONG  # not a known platform: merely wrong
    spf = record(audit, "spf")
    assert "include:spf.mailhost.example include:spf.protection.outlook.com" in spf.fix


async def test_a_chosen_source_overrides_detection(bind: BindServer) -> None:
    source = by_name("zoho")
    assert source is not None
    audit = await audit_domain("google.test", bind.dns_config(timeout=3.0), source=source)
    assert audit.source == "zoho" and audit.source_chosen
    assert audit.mail_now == "Mail now goes to Google Workspace"  # what DNS says, still
    # Google's include is not the chosen source's: nothing keeps it, nothing drops it either
    assert "keeps" not in record(audit, "spf").detail


async def test_after_the_move_the_leftovers_are_listed_each_with_its_fix(bind: BindServer) -> None:
    audit = await audit_domain("googlemoved.test", bind.dns_config(timeout=3.0))
    assert audit.mx_on_microsoft365 and audit.source == "google-workspace"
    assert audit.mail_now == (
        "Mail now goes to Microsoft 365; the SPF record still names Google Workspace"
    )
    left = {r.id: r for r in audit.leftovers}
    assert set(left) == {"source-spf", "source-verification", "source-dkim"}
    assert left["source-spf"].fixes == (
        'Change TXT "v=spf1 include:_spf.google.com include:spf.protection.outlook.com ~all" '
        'to "v=spf1 include:spf.protection.outlook.com ~all"',
    )
    # apps and services may still send through the old platform: the change waits for them
    assert (
        "once nothing (an app, a scanner, a newsletter) sends through" in left["source-spf"].detail
    )
    assert left["source-verification"].fixes[0].startswith('Delete TXT "google-site-verification=')
    assert left["source-dkim"].fixes == (
        "Delete google._domainkey.googlemoved.test TXT (the DKIM key of Google Workspace)",
    )
    assert audit.leftovers_known
    # the audit itself suggests no removal: the SPF record passes as it is
    assert record(audit, "spf").verdict is Verdict.OK and record(audit, "spf").fixes == ()


async def test_before_the_move_leftovers_are_the_sources_own_records(bind: BindServer) -> None:
    audit = await audit_domain("zoho.test", bind.dns_config(timeout=3.0))
    ids = {r.id for r in audit.leftovers}
    assert ids == {"source-mx", "source-spf", "source-verification", "source-dkim"}


async def test_a_broken_source_include_is_not_kept(bind: BindServer) -> None:
    """Keeping an include without an SPF record would keep the record a permerror."""
    audit = await audit_domain("deadspf.test", bind.dns_config(timeout=3.0))
    assert audit.source == "other:deadhost.example"
    spf = record(audit, "spf")
    assert spf.verdict is Verdict.WRONG
    assert "include:spf.deadhost.example" not in spf.fix.split(" to ", 1)[1]


async def test_an_mx_outside_the_domain_at_an_on_premises_address_is_the_own_server(
    bind: BindServer,
) -> None:
    """mail.customer-hosting.test is named outside onprem.test, but its addresses are private
    (RFC 1918, RFC 4193): the company's own server, not another provider named by its host."""
    audit = await audit_domain("onprem.test", bind.dns_config(timeout=3.0))
    assert audit.source == "own-server" and not audit.source_chosen
    assert audit.mail_now == "Mail now goes to the company's own mail server"
    assert record(audit, "mx").detail == "mail goes to mail.customer-hosting.test"
    left = {r.id: r for r in audit.leftovers}
    assert left["source-mx"].found == ("10 mail.customer-hosting.test",)
    assert left["source-autodiscover"].found == ("CNAME mail.customer-hosting.test",)
    assert all(r.fixes == () for r in audit.leftovers)  # before the move: nothing to remove
    # the provider's include is not the own server's: neither kept as the source's nor dropped
    assert "source-spf" not in left
    spf = record(audit, "spf")
    assert spf.fixes == (
        'Change TXT "v=spf1 mx include:spf.customer-hosting.test -all" to '
        '"v=spf1 mx include:spf.customer-hosting.test include:spf.protection.outlook.com -all"',
    )
    assert to_json(audit)["source"]["name"] == "own-server"
    # chosen in the start modal, it knows the same host
    chosen = await audit_domain(
        "onprem.test", bind.dns_config(timeout=3.0), source=by_name("own-server")
    )
    assert {r.id for r in chosen.leftovers} == set(left)


async def test_before_the_move_nothing_of_another_provider_is_to_remove(bind: BindServer) -> None:
    """The first rule: while mail still goes to the provider, no fix beside the MX move itself
    touches its MX or its SPF include (guessed from the MX host's domain, mailhost.example)."""
    audit = await audit_domain("hoster.test", bind.dns_config(timeout=3.0))
    assert audit.source == "other:mailhost.example" and not audit.mx_on_microsoft365
    for result in audit.records:
        if result.id != "mx":
            assert not any("Delete" in f and "mailhost" in f for f in result.fixes), result.id
    spf = record(audit, "spf")
    assert spf.fix.split(" to ", 1)[1].startswith('"v=spf1 include:spf.mailhost.example ')
    assert "mail is still sent from another provider (mx01.mailhost.example)" in spf.detail
    assert {r.id for r in audit.leftovers} == {"source-mx", "source-spf"}
    for left in audit.leftovers:
        assert left.fix == "" and left.fixes == (), left.id
        assert "keep it while MX has not moved" in left.detail
    assert all(r["fix"] == "" for r in to_json(audit)["leftovers"])


async def test_after_the_move_the_guessed_include_says_it_is_a_guess(bind: BindServer) -> None:
    source = by_name("other:mx01.mailhost.example")  # as the start modal stores it
    assert source is not None
    audit = await audit_domain("hostermoved.test", bind.dns_config(timeout=3.0), source=source)
    assert audit.mx_on_microsoft365 and audit.source == "other:mailhost.example"
    left = {r.id: r for r in audit.leftovers}
    assert left["source-spf"].fixes == (
        'Change TXT "v=spf1 include:spf.mailhost.example include:spf.protection.outlook.com '
        '-all" to "v=spf1 include:spf.protection.outlook.com -all"',
    )
    assert left["source-spf"].detail.startswith(
        "include:spf.mailhost.example is taken for another provider (mx01.mailhost.example)'s "
        "only because it is under its MX host's domain mailhost.example: check that no other "
        "sender uses it; change it once nothing"
    )
    # the audit itself keeps it: only the cleanup, after the TTL and the grace, says so
    spf = record(audit, "spf")
    assert spf.verdict is Verdict.OK and spf.fixes == ()
    assert "the cleanup step says when it can go" in spf.detail
