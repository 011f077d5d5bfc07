"""The tenant's own DNS truth from Microsoft Graph, as plain data the audit's rules read.

Graph's ``serviceConfigurationRecords`` of a domain are the exact records Microsoft 365 wants
for that domain in that tenant (the MX host in particular, which Microsoft picks per domain);
``verificationDnsRecords`` and ``isVerified`` say whether the ``MS=ms…`` TXT is still needed.
https://learn.microsoft.com/en-us/graph/api/domain-list-serviceconfigurationrecords
https://learn.microsoft.com/en-us/graph/api/resources/domaindnsrecord

Pure: no I/O. ``bot.mailbox.graph`` reads Graph and builds these with :func:`from_graph`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class ExpectedFrom(StrEnum):
    """Where a record's expected value came from (``expected_from`` in ``--json``)."""

    TENANT = "tenant"  # the tenant's own records, read from Microsoft Graph
    DEFAULT = "default"  # Microsoft's published default (the profile)


EXPECTED_FROM_TEXT: Mapping[ExpectedFrom, str] = {
    ExpectedFrom.TENANT: "from your Microsoft 365 tenant",
    ExpectedFrom.DEFAULT: "Microsoft's published default",
}


@dataclass(frozen=True)
class TenantRecord:
    """One DNS record Graph lists for the domain."""

    type: str  # "MX", "CNAME", "TXT", "SRV"
    name: str  # full owner name, lower case, no trailing dot ("_sip._tls.contoso.com")
    value: str  # MX host / CNAME target / TXT text / SRV "priority weight port target"
    preference: int | None = None  # MX only

    def to_json(self) -> dict[str, Any]:
        return {"type": self.type, "name": self.name, "value": self.value, "pref": self.preference}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TenantRecord:
        pref = data.get("pref")
        return cls(
            str(data["type"]),
            str(data["name"]),
            str(data["value"]),
            None if pref is None else int(pref),
        )


@dataclass(frozen=True)
class TenantTruth:
    """What Graph said about one domain of one tenant.

    ``note`` is one line for the report when Graph could not tell (no permission, domain not
    verified or not added): then ``records`` is empty and the audit uses the defaults.
    """

    domain: str  # ASCII, lower case
    records: tuple[TenantRecord, ...] = ()
    verified: bool | None = None  # None: Graph was not asked or did not say
    verification: tuple[str, ...] = ()  # the MS=ms… TXT values Graph gives for verification
    note: str = ""

    def find(self, type_: str, name: str) -> tuple[TenantRecord, ...]:
        name = name.lower().rstrip(".")
        return tuple(r for r in self.records if r.type == type_ and r.name == name)

    @property
    def mx_host(self) -> str | None:
        """The tenant's exact MX exchange for the domain (None when Graph did not give one)."""
        found = self.find("MX", self.domain)
        return found[0].value if found else None

    def to_json(self) -> dict[str, Any]:
        return {
            "domain": self.domain,
            "records": [r.to_json() for r in self.records],
            "verified": self.verified,
            "verification": list(self.verification),
            "note": self.note,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TenantTruth:
        verified = data.get("verified")
        return cls(
            domain=str(data["domain"]),
            records=tuple(TenantRecord.from_json(r) for r in data.get("records", [])),
            verified=None if verified is None else bool(verified),
            verification=tuple(str(v) for v in data.get("verification", [])),
            note=str(data.get("note", "")),
        )


def _host(value: Any) -> str:
    return str(value or "").lower().rstrip(".")


def record_from_graph(item: Mapping[str, Any], domain: str) -> TenantRecord | None:
    """One ``domainDnsRecord`` (its ``recordType`` says which kind) as a :class:`TenantRecord`;
    None for kinds the audit does not compare (``Unavailable``, unknown types)."""
    kind = str(item.get("recordType", "")).lower()
    label = _host(item.get("label")) or domain
    if kind == "mx":
        pref = item.get("preference")
        return TenantRecord(
            "MX", label, _host(item.get("mailExchange")), int(pref) if pref is not None else 0
        )
    if kind == "cname":
        return TenantRecord("CNAME", label, _host(item.get("canonicalName")))
    if kind == "txt":
        return TenantRecord("TXT", label, str(item.get("text") or ""))
    if kind == "srv":
        # Graph's SRV label is the domain; the owner is service.protocol.label
        owner = f"{item.get('service', '')}.{item.get('protocol', '')}.{label}".lower()
        data = (
            f"{item.get('priority', 0)} {item.get('weight', 0)} {item.get('port', 0)} "
            f"{_host(item.get('nameTarget'))}"
        )
        return TenantRecord("SRV", owner, data)
    return None


def from_graph(
    domain: str,
    service_records: Iterable[Mapping[str, Any]],
    verification_records: Iterable[Mapping[str, Any]],
    is_verified: bool | None,
) -> TenantTruth:
    domain = domain.lower().rstrip(".")
    records = tuple(
        r for r in (record_from_graph(i, domain) for i in service_records) if r and r.value
    )
    verification = tuple(
        str(i.get("text"))
        for i in verification_records
        if str(i.get("recordType", "")).lower() == "txt" and i.get("text")
    )
    return TenantTruth(domain, records, is_verified, verification)
