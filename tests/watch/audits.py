"""Hand-built audits for the watch's pure tests (no DNS): the shape the engine returns."""

from __future__ import annotations

from bot.dnscheck.model import Audit, AuditErrorKind, RecordResult, Verdict

RECORD_IDS = (
    "mx",
    "autodiscover",
    "spf",
    "verification",
    "sip",
    "lyncdiscover",
    "sip-tls",
    "sip-federation",
)
OPTIONAL_IDS = ("mdm-registration", "mdm-enrollment")
SERVERS = ("ns1.example (127.0.0.1)", "ns2.example (127.0.0.2)")


def m365_mx(domain: str) -> str:
    return f"0 {domain.replace('.', '-')}.mail.protection.outlook.com"


def audit(
    domain: str = "contoso.com",
    *,
    records: str = "ok",  # verdict of every record but MX
    overrides: dict[str, str] | None = None,  # record id -> verdict
    mx: tuple[str | None, ...] = ("old", "old"),  # per server: "old", "m365" or None (no answer)
    mx_ttl: int = 3600,
    error: AuditErrorKind | None = None,
) -> Audit:
    if error is not None:
        return Audit(domain=domain, display_domain=domain, error=error)
    overrides = overrides or {}
    results = []
    for rid in RECORD_IDS[1:] + OPTIONAL_IDS:
        verdict = Verdict(overrides.get(rid, records))
        results.append(
            RecordResult(
                id=rid,
                verdict=verdict,
                name=domain,
                type="TXT",
                expected="x",
                found=(),
                fix="",
                required=rid not in OPTIONAL_IDS,
            )
        )
    values = {
        "old": ("10 mail.global.frontbridge.com",),
        "m365": (m365_mx(domain),),
    }
    servers = {s: values[m] for s, m in zip(SERVERS, mx, strict=True) if m is not None}
    answered = set(servers.values())
    on_m365 = tuple(s for s, v in servers.items() if v == values["m365"])
    servers.update({s: ("<timeout>",) for s, m in zip(SERVERS, mx, strict=True) if m is None})
    if None in mx:
        mx_verdict = Verdict.UNKNOWN  # the engine: any server without an answer
    elif len(answered) > 1:
        mx_verdict = Verdict.INCONSISTENT
    elif answered == {values["m365"]}:
        mx_verdict = Verdict.OK
    else:
        mx_verdict = Verdict.LEGACY
    mx_verdict = Verdict(overrides.get("mx", mx_verdict.value))
    target = m365_mx(domain).rstrip(".")
    results.insert(
        0,
        RecordResult(
            id="mx",
            verdict=mx_verdict,
            name=domain,
            type="MX",
            expected=target,
            found=next(iter(v for v in servers.values() if v != ("<timeout>",)), ()),
            fix="" if mx_verdict is Verdict.OK else f"Add MX {target}",
            servers=servers,
            ttl=mx_ttl if answered else None,
        ),
    )
    return Audit(
        domain=domain,
        display_domain=domain,
        records=tuple(results),
        servers=SERVERS,
        mx_on_microsoft365=all(m == "m365" for m in mx),
        mx_servers_on_microsoft365=on_m365,
    )
