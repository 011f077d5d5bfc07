"""Zone text for BIND: a standard head (SOA, NS with glue) plus the records a test wants.

Used by the zone fixtures and by scripts that generate hundreds of domains (watch tests,
benchmarks): ``make_zone("d1.test", microsoft365_records("d1.test"))``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

# NS host label -> address; each domain's name servers live inside the domain (glue)
DEFAULT_NAMESERVERS: Mapping[str, str] = {"ns1": "127.0.0.1", "ns2": "127.0.0.2"}


def make_zone(
    origin: str,
    records: Iterable[str] = (),
    *,
    nameservers: Mapping[str, str] = DEFAULT_NAMESERVERS,
    serial: int = 1,
    ttl: int = 300,
) -> str:
    """A zone file for ``origin``; ``records`` are lines relative to it ("@ MX 0 mx.example.").

    ``nameservers`` maps NS host -> address: a relative host ("ns1") gets its A record in the
    zone (glue); an absolute one ("ns1.dnshost.test.") is listed as NS only, its address must
    be served elsewhere (then the audit needs its second round trip).
    """
    origin = origin.rstrip(".") + "."
    first = next(iter(nameservers))
    mname = first if first.endswith(".") else f"{first}.{origin}"
    lines = [
        f"$ORIGIN {origin}",
        f"$TTL {ttl}",
        f"@ SOA {mname} hostmaster.{origin} {serial} 3600 600 86400 60",
    ]
    for host, address in nameservers.items():
        if host.endswith("."):  # a name server outside the zone: no glue here
            lines.append(f"@ NS {host}")
        else:
            lines += [f"@ NS {host}", f"{host} A {address}"]
    lines += list(records)
    return "\n".join(lines) + "\n"


def microsoft365_records(domain: str, *, mx: bool = True, mdm: bool = True) -> list[str]:
    """Every record the microsoft365 profile expects for ``domain`` (ASCII), MX optional."""
    dashed = domain.rstrip(".").replace(".", "-")
    records = [
        '@ TXT "MS=ms12345678"',
        '@ TXT "v=spf1 include:spf.protection.outlook.com -all"',
        "autodiscover CNAME autodiscover.outlook.com.",
        "sip CNAME sipdir.online.lync.com.",
        "lyncdiscover CNAME webdir.online.lync.com.",
        "_sip._tls SRV 100 1 443 sipdir.online.lync.com.",
        "_sipfederationtls._tcp SRV 100 1 5061 sipfed.online.lync.com.",
    ]
    if mx:
        records.insert(0, f"@ MX 0 {dashed}.mail.protection.outlook.com.")
    if mdm:
        records += [
            "enterpriseregistration CNAME enterpriseregistration.windows.net.",
            "enterpriseenrollment CNAME enterpriseenrollment.manage.microsoft.com.",
        ]
    return records
