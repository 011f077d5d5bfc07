"""The records a target platform needs, as data: a changed Microsoft value is an edit here only.

Names and values are templates: ``{domain}`` is the ASCII domain ("contoso.com") and
``{dashed}`` the same with dots as dashes ("contoso-com"), as Microsoft 365 builds its MX host.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Rule(StrEnum):
    """How found records are compared with the expected value."""

    MX = "mx"  # a Microsoft 365 exchange, alone (see Profile.is_microsoft365_host)
    TARGET = "target"  # CNAME target equals the value
    SRV = "srv"  # SRV port and target equal the value's (priority and weight are advice)
    SPF = "spf"  # exactly one v=spf1 TXT, with include:<value>, at most 10 DNS lookups
    PATTERN = "pattern"  # some TXT matches the regular expression in value
    # mail authentication (bot.dnscheck.mailauth): recommended records and the MTA-STS policy
    DKIM = "dkim"  # CNAME whose target matches the regular expression in value
    DMARC = "dmarc"  # exactly one v=DMARC1 TXT
    MTA_STS = "mta-sts"  # v=STSv1 TXT; its policy file must let mail reach Microsoft 365
    TLS_RPT = "tls-rpt"  # v=TLSRPTv1 TXT, shown when present


SKYPE_NOTE = "needed only for Skype for Business; a Teams-only tenant can delete them"


@dataclass(frozen=True)
class ExpectedRecord:
    id: str
    name: str  # owner name template, "{domain}" or "autodiscover.{domain}"
    type: str  # MX, CNAME, TXT, SRV
    value: str  # template of what must be there (for PATTERN: a regular expression)
    rule: Rule
    required: bool = True
    shown: str = ""  # how the expected value reads to a person when value is a pattern
    add_hint: str = ""  # added to the "Add ..." fix when the value comes from elsewhere
    # a target outside this domain belongs to another provider: legacy, not merely wrong
    provider: str = ""
    accepted: tuple[str, ...] = ()  # other values that are right too (templates, like value)
    note: str = ""  # shown with the record whatever its verdict (why it is optional, ...)
    until_verified: bool = False  # needed only until Microsoft 365 has verified the domain
    only_when_present: bool = False  # absent is not worth a line in the report (tls-rpt)

    def owner(self, domain: str) -> str:
        return self.name.format(domain=domain, dashed=domain.replace(".", "-"))

    def target(self, domain: str) -> str:
        """The value with the domain filled in (MX host, CNAME target, SRV data, pattern)."""
        return self.value.format(domain=domain, dashed=domain.replace(".", "-"))

    def targets(self, domain: str) -> tuple[str, ...]:
        """Every value that is right: the value, then the accepted alternatives."""
        dashed = domain.replace(".", "-")
        return (
            self.target(domain),
            *(a.format(domain=domain, dashed=dashed) for a in self.accepted),
        )

    def expected(self, domain: str) -> str:
        """How the expected record reads to a person."""
        if self.shown:
            return self.shown.format(domain=domain, dashed=domain.replace(".", "-"))
        return " or ".join(self.targets(domain))


@dataclass(frozen=True)
class LegacyRecord:
    """A record that, when present, must be deleted (reported as its own record id)."""

    id: str
    name: str
    type: str
    value: str  # the legacy target; any target at this name is reported
    note: str

    def owner(self, domain: str) -> str:
        return self.name.format(domain=domain)


@dataclass(frozen=True)
class Profile:
    name: str
    records: tuple[ExpectedRecord, ...]
    legacy_hosts: tuple[str, ...]  # MX exchanges (and their subdomains) of the old platform
    legacy_spf_includes: tuple[str, ...]  # SPF include targets of the old platform
    legacy_records: tuple[LegacyRecord, ...] = ()
    spf_lookup_limit: int = 10
    # MX exchanges of the platform itself: any host strictly under one of these receives mail
    # for the platform (the tenant's exact host, when known, comes from Microsoft Graph)
    mx_host_suffixes: tuple[str, ...] = ()

    @property
    def record_ids(self) -> tuple[str, ...]:
        """The report's record ids in order, each once (two DKIM selectors are one ``dkim``)."""
        return tuple(dict.fromkeys(r.id for r in self.records))

    @property
    def spf_include(self) -> str:
        """Microsoft 365's SPF include target (``spf.protection.outlook.com``)."""
        return next(r.value for r in self.records if r.rule is Rule.SPF)

    def is_legacy_host(self, host: str) -> bool:
        host = host.lower().rstrip(".")
        return any(host == h or host.endswith("." + h) for h in self.legacy_hosts)

    def is_microsoft365_host(self, host: str) -> bool:
        """The one rule for "this MX exchange is Microsoft 365" (verdict, watch, MX gate)."""
        host = host.lower().rstrip(".")
        return not self.is_legacy_host(host) and any(
            host.endswith("." + suffix) for suffix in self.mx_host_suffixes
        )

    def is_legacy_include(self, target: str) -> bool:
        target = target.lower().rstrip(".")
        return any(target == h or target.endswith("." + h) for h in self.legacy_spf_includes)


def _dkim_target(selector: str) -> str:
    """Microsoft's two DKIM CNAME target forms for one selector, as a regular expression:
    ``selector1-<CustomDomain>._domainkey.<initial>.onmicrosoft.com`` (tenants set up before
    May 2025) and ``selector1-<CustomDomain>._domainkey.<InitialDomainPrefix>.<p>-v1.dkim.mail.
    microsoft``. <CustomDomain> is the domain with dashes, or the token of a customised MX.
    https://learn.microsoft.com/en-us/defender-office-365/email-authentication-dkim-configure
    (section "Syntax for DKIM CNAME records")"""
    return (
        rf"^{selector}-[a-z0-9-]+\._domainkey\."
        r"(?:[a-z0-9-]+\.onmicrosoft\.com|[a-z0-9-]+\.[a-z0-9]+-v[0-9]+\.dkim\.mail\.microsoft)$"
    )


# DKIM, DMARC, MTA-STS and TLS-RPT: not needed to receive mail in Microsoft 365, but they decide
# whether mail from it is trusted (DKIM aligned for DMARC) and whether senders will deliver to
# its MX at all (an MTA-STS policy in enforce mode that does not list it).
MAIL_AUTH_RECORDS = (
    *(
        ExpectedRecord(
            id="dkim",
            name=f"{selector}._domainkey.{{domain}}",
            type="CNAME",
            value=_dkim_target(selector),
            rule=Rule.DKIM,
            required=False,
            shown=f"{selector}-{{dashed}}._domainkey.<initial domain>.onmicrosoft.com "
            "(or ….dkim.mail.microsoft)",
            add_hint="(the exact value: Microsoft Defender portal › Email authentication "
            "settings › DKIM)",
        )
        for selector in ("selector1", "selector2")
    ),
    # RFC 7489 §6.1: the policy is the TXT at _dmarc.<domain> that starts with v=DMARC1
    ExpectedRecord(
        id="dmarc",
        name="_dmarc.{domain}",
        type="TXT",
        value="v=DMARC1",
        rule=Rule.DMARC,
        required=False,
        shown="v=DMARC1; p=none; rua=mailto:<reports address>",
    ),
    # RFC 8461 §3.1: _mta-sts TXT "v=STSv1; id=…", policy at https://mta-sts.<domain>/.well-known
    ExpectedRecord(
        id="mta-sts",
        name="_mta-sts.{domain}",
        type="TXT",
        value="v=STSv1",
        rule=Rule.MTA_STS,
        required=False,  # becomes required when a policy is published (mailauth)
        shown="none, or a policy whose mx lines include Microsoft 365's MX",
    ),
    # RFC 8460 §3: _smtp._tls TXT "v=TLSRPTv1; rua=…"
    ExpectedRecord(
        id="tls-rpt",
        name="_smtp._tls.{domain}",
        type="TXT",
        value="v=TLSRPTv1",
        rule=Rule.TLS_RPT,
        required=False,
        shown="v=TLSRPTv1; rua=mailto:<reports address> (optional)",
        only_when_present=True,
    ),
)


MICROSOFT365 = Profile(
    name="microsoft365",
    records=(
        # The MX host is per domain and Microsoft chooses it: "<token>.mail.protection.outlook.com"
        # where the token is often, not always, the dashed domain (hyphenated domains get e.g.
        # contosouk-com01b), and "<dashed>.<id>.mx.microsoft" for domains added since mid-2026
        # and for DNSSEC/SMTP DANE. So the value is only the usual guess, shown as such; the
        # exact host is the tenant's (Graph serviceConfigurationRecords) or the admin center's.
        # https://learn.microsoft.com/en-us/microsoft-365/admin/get-help-with-domains/information-for-dns-records
        # https://learn.microsoft.com/en-us/exchange/mail-flow-best-practices/how-to-configure-inbound-smtp-dane-with-dnssec
        ExpectedRecord(
            id="mx",
            name="{domain}",
            type="MX",
            value="{dashed}.mail.protection.outlook.com",
            rule=Rule.MX,
            shown="the MX value shown in the Microsoft 365 admin center (Settings › Domains), "
            "usually {dashed}.mail.protection.outlook.com",
        ),
        ExpectedRecord(
            id="autodiscover",
            name="autodiscover.{domain}",
            type="CNAME",
            value="autodiscover.outlook.com",
            rule=Rule.TARGET,
        ),
        ExpectedRecord(
            id="spf",
            name="{domain}",
            type="TXT",
            value="spf.protection.outlook.com",
            rule=Rule.SPF,
            shown="v=spf1 include:spf.protection.outlook.com -all",
        ),
        ExpectedRecord(
            id="verification",
            name="{domain}",
            type="TXT",
            value=r"^MS=ms\d+$",  # a regular expression, used as is
            rule=Rule.PATTERN,
            shown="MS=ms########",
            add_hint="(the value the Microsoft 365 admin center shows under Settings › Domains)",
            # Microsoft checks it once, when the domain is added; afterwards it can go.
            # https://learn.microsoft.com/en-us/microsoft-365/admin/setup/add-domain
            until_verified=True,
        ),
        # Skype for Business Online is retired (July 2021): sip, lyncdiscover and _sip._tls serve
        # only Skype clients; Teams federation still uses _sipfederationtls._tcp.
        # https://learn.microsoft.com/en-us/microsoftteams/skype-for-business-online-retirement
        # https://learn.microsoft.com/en-us/microsoft-365/enterprise/external-domain-name-system-records
        ExpectedRecord(
            id="sip",
            name="sip.{domain}",
            type="CNAME",
            value="sipdir.online.lync.com",
            rule=Rule.TARGET,
            provider="lync.com",
            required=False,
            note=SKYPE_NOTE,
        ),
        ExpectedRecord(
            id="lyncdiscover",
            name="lyncdiscover.{domain}",
            type="CNAME",
            value="webdir.online.lync.com",
            rule=Rule.TARGET,
            provider="lync.com",
            required=False,
            note=SKYPE_NOTE,
        ),
        ExpectedRecord(
            id="sip-tls",
            name="_sip._tls.{domain}",
            type="SRV",
            value="100 1 443 sipdir.online.lync.com",
            rule=Rule.SRV,
            provider="lync.com",
            required=False,
            note=SKYPE_NOTE,
        ),
        ExpectedRecord(
            id="sip-federation",
            name="_sipfederationtls._tcp.{domain}",
            type="SRV",
            value="100 1 5061 sipfed.online.lync.com",
            rule=Rule.SRV,
            provider="lync.com",
        ),
        ExpectedRecord(
            id="mdm-registration",
            name="enterpriseregistration.{domain}",
            type="CNAME",
            value="enterpriseregistration.windows.net",
            rule=Rule.TARGET,
            required=False,
        ),
        ExpectedRecord(
            id="mdm-enrollment",
            name="enterpriseenrollment.{domain}",
            type="CNAME",
            value="enterpriseenrollment.manage.microsoft.com",
            # Intune's enrollment CNAME for Windows: either host is documented.
            # https://learn.microsoft.com/en-us/mem/intune/enrollment/windows-enrollment-create-cname
            accepted=("enterpriseenrollment-s.manage.microsoft.com",),
            rule=Rule.TARGET,
            required=False,
        ),
        *MAIL_AUTH_RECORDS,
    ),
    # Legacy Microsoft mail hosts that Exchange Online no longer supports as MX: BPOS / FOPE
    # (Forefront Online Protection for Exchange: frontbridge, messaging.microsoft.com, bigfish),
    # the old Exchange Online "mail.eo.outlook.com" and the retired Microsoft Cloud Deutschland
    # "mail.protection.outlook.de".
    # https://techcommunity.microsoft.com/blog/exchange/best-practices-for-using-assigned-office-365-dns-records/607436
    # https://learn.microsoft.com/en-us/microsoft-365/enterprise/ms-cloud-germany-transition
    legacy_hosts=(
        "frontbridge.com",
        "mail.messaging.microsoft.com",
        "mail.global.bigfish.com",
        "mail.eo.outlook.com",
        "mail.protection.outlook.de",
    ),
    legacy_spf_includes=("frontbridge.com", "messaging.microsoft.com"),
    # Exchange Online Protection's inbound hosts: worldwide, the DNSSEC/DANE-capable mx.microsoft
    # namespace, GCC High / DoD (office365.us) and 21Vianet (partner.outlook.cn).
    # https://learn.microsoft.com/en-us/exchange/mail-flow-best-practices/how-to-configure-inbound-smtp-dane-with-dnssec
    # https://learn.microsoft.com/en-us/microsoft-365/enterprise/microsoft-365-u-s-government-gcc-high-endpoints
    mx_host_suffixes=(
        "mail.protection.outlook.com",
        "mx.microsoft",
        "mail.protection.office365.us",
        "mail.protection.partner.outlook.cn",
    ),
    legacy_records=(
        LegacyRecord(
            id="msoid",
            name="msoid.{domain}",
            type="CNAME",
            value="clientconfig.microsoftonline-p.net",
            note="only 21Vianet tenants keep it; elsewhere it sends sign-in to the wrong cloud",
        ),
    ),
)

PROFILES: dict[str, Profile] = {MICROSOFT365.name: MICROSOFT365}
