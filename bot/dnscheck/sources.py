"""Where the mail comes from: source platforms as data, beside the Microsoft 365 target profile.

Each source says how to recognise it (MX hosts, SPF includes) and what it leaves behind to
retire after the move (verification TXT, DKIM keys, autodiscover). Host and include entries
match the name itself or any name under it ("zoho.eu" matches "mx2.zoho.eu").

``detect`` is pure: the current MX exchanges, their addresses and the SPF includes in, the
source out (the audit's I/O looks the addresses up).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

OWN_SERVER = "own-server"
OTHER_PREFIX = "other:"


def _under(name: str, suffixes: Sequence[str]) -> bool:
    name = name.lower().rstrip(".")
    return any(name == s or name.endswith("." + s) for s in suffixes)


@dataclass(frozen=True)
class Source:
    name: str  # stored on the tenant, typed in `check --source`
    title: str  # for people: "Mail now goes to Google Workspace"
    mx_hosts: tuple[str, ...] = ()  # MX exchanges of the platform (and names under them)
    spf_includes: tuple[str, ...] = ()  # SPF include targets that authorise it to send
    verification: tuple[str, ...] = ()  # regular expressions of its apex verification TXT
    dkim_selectors: tuple[str, ...] = ()  # <selector>._domainkey.<domain> TXT keys it signs with
    autodiscover: tuple[str, ...] = ()  # autodiscover CNAME targets that belong to it
    # the company's own server: an MX inside the domain itself, or one on premises (its
    # mx_hosts: the MX hosts outside the domain whose address is in on-premises space)
    own_server: bool = False

    @property
    def platform(self) -> bool:
        """A known hosted platform (BPOS, Google, Zoho): its MX is legacy, named."""
        return not self.own_server and not self.guessed

    @property
    def guessed(self) -> bool:
        """Another provider: its MX and SPF include are guessed from its MX host's domain."""
        return self.name.startswith(OTHER_PREFIX)

    def is_host(self, host: str, domain: str = "") -> bool:
        if self.own_server:
            return _under(host, (*self.mx_hosts, *((domain,) if domain else ())))
        return _under(host, self.mx_hosts)

    def is_include(self, target: str, domain: str = "") -> bool:
        if self.own_server:  # an include inside the domain (include:_spf.contoso.com)
            return bool(domain) and _under(target, (domain,))
        return _under(target, self.spf_includes)

    def is_verification(self, txt: str) -> bool:
        return any(re.match(p, txt.strip(), re.IGNORECASE) for p in self.verification)

    def is_autodiscover(self, target: str, domain: str = "") -> bool:
        if self.own_server:
            return _under(target, (*self.mx_hosts, *((domain,) if domain else ())))
        return _under(target, self.autodiscover)


# BPOS / FOPE (Forefront Online Protection for Exchange), Microsoft's platform before Office
# 365: the same hosts as the Microsoft 365 profile's legacy_hosts and legacy_spf_includes.
BPOS = Source(
    name="bpos",
    title="BPOS/FOPE",
    mx_hosts=("frontbridge.com", "mail.messaging.microsoft.com"),
    spf_includes=("frontbridge.com", "messaging.microsoft.com"),
)

# Google Workspace: MX "smtp.google.com" (since 2023) or aspmx.l.google.com with alt1-alt4
# (and the older aspmx2-5.googlemail.com); SPF "include:_spf.google.com"; site verification
# TXT "google-site-verification=..."; DKIM selector "google" by default.
# https://support.google.com/a/answer/174125 (MX), https://support.google.com/a/answer/10685031
# (SPF), https://support.google.com/a/answer/183895 (verification),
# https://support.google.com/a/answer/174126 (DKIM, "google._domainkey")
GOOGLE = Source(
    name="google-workspace",
    title="Google Workspace",
    mx_hosts=("aspmx.l.google.com", "smtp.google.com", "googlemail.com"),
    spf_includes=("_spf.google.com", "aspmx.googlemail.com"),
    verification=(r"^google-site-verification=",),
    dkim_selectors=("google",),
)

# Zoho Mail: MX mx.zoho.com, mx2.zoho.com, mx3.zoho.com, with the regional data centres'
# mx*.zoho.eu, mx*.zoho.in (and zoho.com.au, zoho.jp, zohomail.*); SPF "include:zoho.com"
# (zoho.eu, zoho.in, ...); domain verification TXT "zoho-verification=zb....zmverify.zoho.com";
# the DKIM selector is the admin's choice in Zoho's console ("zoho" and "zmail" are the usual).
# https://www.zoho.com/mail/help/adminconsole/configure-email-delivery.html (MX),
# https://www.zoho.com/mail/help/adminconsole/spf-configuration.html (SPF),
# https://www.zoho.com/mail/help/adminconsole/domain-verification.html (TXT),
# https://www.zoho.com/mail/help/adminconsole/dkim-configuration.html (DKIM)
ZOHO = Source(
    name="zoho",
    title="Zoho Mail",
    mx_hosts=("zoho.com", "zoho.eu", "zoho.in", "zoho.com.au", "zoho.jp", "zohomail.com"),
    spf_includes=("zoho.com", "zoho.eu", "zoho.in", "zoho.com.au", "zoho.jp", "zohomail.eu"),
    verification=(r"^zoho-verification=",),
    dkim_selectors=("zoho", "zmail"),
)

# The company's own (Exchange) server: an MX host inside the domain itself ("mail.contoso.com")
# or one whose address is on premises (see ON_PREMISES), and autodiscover pointing at it. Its
# SPF usually authorises it with ip4/a/mx terms, which the bot never suggests removing (other
# senders may use them); an include inside the domain is treated as the source's.
OWN = Source(name=OWN_SERVER, title="the company's own mail server", own_server=True)

SOURCES: dict[str, Source] = {s.name: s for s in (BPOS, GOOGLE, ZOHO, OWN)}

# On-premises address space: an MX host that resolves into it is the company's own server,
# wherever its name lives ("mail.customer-hosting.net" -> 10.0.0.25).
# - RFC 1918 section 3: 10/8, 172.16/12, 192.168/16, private IPv4 of an enterprise;
# - RFC 4193 section 3.1: fc00::/7, unique local IPv6 addresses (a site's own).
# Not RFC 6598's 100.64/10: shared address space is the service provider's, numbering the
# customer side of carrier-grade NAT (RFC 6598 section 1); section 4 warns against using it as
# RFC 1918 space, so an address there says nothing about whose server it is. Nor loopback,
# link-local or the documentation ranges: none of them is a company's server.
ON_PREMISES = tuple(
    ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7")
)


def on_premises(address: str) -> bool:
    """The address is in on-premises space (an IPv4-mapped IPv6 address as its IPv4)."""
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip in network for network in ON_PREMISES)


def on_premises_hosts(
    exchanges: Sequence[tuple[int, str]], addresses: Mapping[str, Sequence[str]]
) -> tuple[str, ...]:
    """The MX hosts with an address in on-premises space (any of them: no provider serves
    the internet from a company's private network), in MX order."""
    hosts = (h.lower().rstrip(".") for _, h in sorted(exchanges))
    return tuple(
        dict.fromkeys(h for h in hosts if any(on_premises(a) for a in addresses.get(h, ())))
    )


def needs_address(
    domain: str,
    exchanges: Sequence[tuple[int, str]],
    is_microsoft365: Callable[[str], bool] | None = None,
) -> tuple[str, ...]:
    """The MX hosts whose source only their address tells: not Microsoft 365's, not a known
    platform's, not inside the domain (those are the own server's by name)."""
    known = (BPOS, GOOGLE, ZOHO)
    hosts = dict.fromkeys(h.lower().rstrip(".") for _, h in sorted(exchanges) if h != ".")
    return tuple(
        h
        for h in hosts
        if not (is_microsoft365 is not None and is_microsoft365(h))
        and not any(s.is_host(h) for s in known)
        and not _under(h, (domain,))
    )


def own_server(
    exchanges: Sequence[tuple[int, str]] = (), addresses: Mapping[str, Sequence[str]] | None = None
) -> Source:
    """The company's own server, knowing its MX hosts outside the domain that are on premises."""
    return replace(OWN, mx_hosts=on_premises_hosts(exchanges, addresses or {}))


def provider_base(host: str) -> str:
    """The provider a host belongs to, as its last two labels ("mx01.hoster.net" -> "hoster.net";
    three when the second-level label is short, as in "mail.hoster.co.uk" -> "hoster.co.uk")."""
    labels = host.lower().rstrip(".").split(".")
    keep = 3 if len(labels) >= 3 and len(labels[-2]) <= 3 and len(labels[-1]) == 2 else 2
    return ".".join(labels[-keep:])


def other_provider(host: str) -> Source:
    """Any other provider, named by its MX host; its own names are the host's base domain."""
    base = provider_base(host)
    return Source(
        name=OTHER_PREFIX + base,
        title=f"another provider ({host.lower().rstrip('.')})",
        mx_hosts=(base,),
        spf_includes=(base,),
    )


_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_HOST = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(?:\.{_LABEL})+$")


def by_name(name: str) -> Source | None:
    """A stored or typed source name; ``other:<host>`` names another provider (a host name of
    two labels or more, as in an MX record: anything else names nothing)."""
    name = name.strip().lower()
    if name.startswith(OTHER_PREFIX):
        host = name[len(OTHER_PREFIX) :].rstrip(".")
        return other_provider(host) if _HOST.match(host) else None
    return SOURCES.get(name)


def names_help() -> str:
    return ", ".join([*SOURCES, f"{OTHER_PREFIX}<mx host>"])


@dataclass(frozen=True)
class Detected:
    source: Source | None  # None: nothing but Microsoft 365 (or nothing at all) was found
    sentence: str  # "Mail now goes to Google Workspace"
    host: str = ""  # the lowest MX host the source was recognised by ("" from SPF or none)

    @property
    def other_choice(self) -> str:
        """``other:<mx host>`` when another provider was detected (a choice the start modal
        offers beside the known ones), else ""."""
        if self.source is None or not self.source.guessed or not self.host:
            return ""
        return OTHER_PREFIX + self.host


def detect(
    domain: str,
    exchanges: Sequence[tuple[int, str]],
    includes: Sequence[str],
    is_microsoft365: Callable[[str], bool] | None = None,
    addresses: Mapping[str, Sequence[str]] | None = None,
) -> Detected:
    """The source from the current MX (lowest preference first) and the SPF includes.

    ``is_microsoft365`` is the target profile's host rule; hosts it accepts are the
    destination, not a source. ``addresses``: MX host -> its A and AAAA values (a host not in
    it is not known to be on premises). With MX already on Microsoft 365, the SPF still tells
    where mail came from."""
    others = sorted(
        (p, h)
        for p, h in exchanges
        if h != "." and not (is_microsoft365 is not None and is_microsoft365(h))
    )
    known = (BPOS, GOOGLE, ZOHO)
    if others:
        host = others[0][1]
        source = next((s for s in known if s.is_host(host)), None)
        if source is None:
            own = own_server(exchanges, addresses)
            source = own if own.is_host(host, domain) else other_provider(host)
        return Detected(source, f"Mail now goes to {source.title}", host.lower().rstrip("."))
    from_spf = next((s for s in known if any(s.is_include(i) for i in includes)), None)
    if exchanges and from_spf is not None:
        return Detected(
            from_spf,
            f"Mail now goes to Microsoft 365; the SPF record still names {from_spf.title}",
        )
    if exchanges:
        return Detected(None, "Mail now goes to Microsoft 365")
    return Detected(from_spf, "The domain has no MX record")
