"""The records a target platform needs, as data: a changed Microsoft value is an edit here only.

Names and values are templates: ``{domain}`` is the ASCII domain ("contoso.com") and
``{dashed}`` the same with dots as dashes ("contoso-com"), as Microsoft 365 builds its MX host.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Rule(StrEnum):
    """How found records are compared with the expected value."""

    MX = "mx"  # the lowest-preference exchange must be the value; any preference accepted
    TARGET = "target"  # CNAME target equals the value
    SRV = "srv"  # SRV port and target equal the value's (priority and weight are advice)
    SPF = "spf"  # exactly one v=spf1 TXT, with include:<value>, at most 10 DNS lookups
    PATTERN = "pattern"  # some TXT matches the regular expression in value


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

    def owner(self, domain: str) -> str:
        return self.name.format(domain=domain, dashed=domain.replace(".", "-"))

    def target(self, domain: str) -> str:
        """The value with the domain filled in (MX host, CNAME target, SRV data, pattern)."""
        return self.value.format(domain=domain, dashed=domain.replace(".", "-"))

    def expected(self, domain: str) -> str:
        """How the expected record reads to a person."""
        if self.shown:
            return self.shown.format(domain=domain, dashed=domain.replace(".", "-"))
        return self.target(domain)


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

    def is_legacy_host(self, host: str) -> bool:
        host = host.lower().rstrip(".")
        return any(host == h or host.endswith("." + h) for h in self.legacy_hosts)

    def is_legacy_include(self, target: str) -> bool:
        target = target.lower().rstrip(".")
        return any(target == h or target.endswith("." + h) for h in self.legacy_spf_includes)


MICROSOFT365 = Profile(
    name="microsoft365",
    records=(
        ExpectedRecord(
            id="mx",
            name="{domain}",
            type="MX",
            value="{dashed}.mail.protection.outlook.com",
            rule=Rule.MX,
            shown="0 {dashed}.mail.protection.outlook.com",
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
        ),
        ExpectedRecord(
            id="sip",
            name="sip.{domain}",
            type="CNAME",
            value="sipdir.online.lync.com",
            rule=Rule.TARGET,
            provider="lync.com",
        ),
        ExpectedRecord(
            id="lyncdiscover",
            name="lyncdiscover.{domain}",
            type="CNAME",
            value="webdir.online.lync.com",
            rule=Rule.TARGET,
            provider="lync.com",
        ),
        ExpectedRecord(
            id="sip-tls",
            name="_sip._tls.{domain}",
            type="SRV",
            value="100 1 443 sipdir.online.lync.com",
            rule=Rule.SRV,
            provider="lync.com",
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
            rule=Rule.TARGET,
            required=False,
        ),
    ),
    # BPOS / FOPE (Forefront Online Protection for Exchange) mail hosts
    legacy_hosts=("frontbridge.com", "mail.messaging.microsoft.com"),
    legacy_spf_includes=("frontbridge.com", "messaging.microsoft.com"),
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
