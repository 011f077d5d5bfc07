"""The tenant form (the `/transition start` modal's fields) -> a checked tenant, or per-field
errors to show inline. Pure: no Slack, no database.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.core.domain import Domain, DomainError, parse_domain
from bot.core.reminders import ScheduleError, zone
from bot.dnscheck.sources import OTHER_PREFIX, by_name, names_help
from bot.ops.config import ConfigError, parse_hostport

MAX_DOMAINS = 20
MAX_APPROVALS = 10
MAX_NAME = 200
_PARTNER_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


class Field:
    """Field names: also the modal's block ids, so errors land next to their input."""

    NAME = "name"
    DOMAINS = "domains"
    ONPREM = "onprem"
    INTERNAL_DNS = "internal_dns"
    TIME_ZONE = "time_zone"
    APPROVERS = "approvers"
    APPROVALS_NEEDED = "approvals_needed"
    PARTNER_ID = "partner_id"
    SOURCE = "source"


@dataclass(frozen=True)
class TenantForm:
    """What was typed, as text (the modal's raw values)."""

    name: str = ""
    domains: str = ""
    onprem_exchange: bool = False
    internal_dns_server: str = ""
    time_zone: str = "UTC"
    approvers: Sequence[str] = ()
    approvals_needed: str = "1"
    partner_id: str = ""
    source: str = ""  # a source platform name; "" or DETECT: detected from MX and SPF


DETECT = "detect"


@dataclass(frozen=True)
class ValidTenant:
    name: str
    domains: tuple[Domain, ...]  # the primary first
    onprem_exchange: bool
    internal_dns_server: str | None
    time_zone: str
    approvers: tuple[str, ...]
    approvals_needed: int
    partner_id: str | None
    source: str | None = None  # None: detected from the current MX and SPF on every check


@dataclass
class FormErrors(Exception):
    errors: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return "; ".join(f"{k}: {v}" for k, v in self.errors.items())


def split_domains(text: str) -> list[str]:
    return [part for part in re.split(r"[\s,;]+", text.strip()) if part]


def parse_domains(text: str) -> tuple[Domain, ...]:
    """Every domain in ``text`` (space or comma separated), de-duplicated, in order."""
    parts = split_domains(text)
    if not parts:
        raise DomainError("Give at least one domain, e.g. contoso.com.")
    if len(parts) > MAX_DOMAINS:
        raise DomainError(f"At most {MAX_DOMAINS} domains per tenant.")
    seen: dict[str, Domain] = {}
    for part in parts:
        domain = parse_domain(part)
        seen.setdefault(domain.ascii, domain)
    return tuple(seen.values())


def validate(form: TenantForm) -> ValidTenant:
    errors: dict[str, str] = {}
    domains: tuple[Domain, ...] = ()
    try:
        domains = parse_domains(form.domains)
    except DomainError as exc:
        errors[Field.DOMAINS] = exc.message

    name = form.name.strip() or (domains[0].unicode if domains else "")
    if not name:
        errors.setdefault(Field.NAME, "Give the tenant a name (the customer organisation).")
    elif len(name) > MAX_NAME:
        errors[Field.NAME] = f"At most {MAX_NAME} characters."

    internal = form.internal_dns_server.strip() or None
    if internal is not None:
        try:
            parse_hostport(internal)
        except ConfigError:
            errors[Field.INTERNAL_DNS] = "Give the internal DNS server as an IP (or IP:PORT)."

    time_zone = form.time_zone.strip() or "UTC"
    try:
        zone(time_zone)
    except ScheduleError as exc:
        errors[Field.TIME_ZONE] = str(exc)

    needed = 0
    text = form.approvals_needed.strip()
    if not text.isdigit() or not 1 <= int(text) <= MAX_APPROVALS:
        errors[Field.APPROVALS_NEEDED] = f"A whole number from 1 to {MAX_APPROVALS}."
    else:
        needed = int(text)
    approvers = tuple(dict.fromkeys(a for a in form.approvers if a))
    if needed and len(approvers) < needed:
        errors[Field.APPROVERS] = (
            f"Pick at least {needed} approver(s): {needed} approval(s) are needed."
        )

    partner = form.partner_id.strip() or None
    if partner is not None and not _PARTNER_ID.match(partner):
        errors[Field.PARTNER_ID] = "Letters, digits, dots and dashes only (at most 64)."

    source = form.source.strip().lower() or DETECT
    if source.startswith(OTHER_PREFIX) and by_name(source) is None:
        errors[Field.SOURCE] = (
            f"{OTHER_PREFIX}<mx host> needs the MX host's name, e.g. {OTHER_PREFIX}mx01.hoster.net."
        )
    elif source != DETECT and by_name(source) is None:
        errors[Field.SOURCE] = f"Pick where mail comes from today ({names_help()})."

    if errors:
        raise FormErrors(errors)
    return ValidTenant(
        name=name,
        domains=domains,
        onprem_exchange=form.onprem_exchange,
        internal_dns_server=internal,
        time_zone=time_zone,
        approvers=approvers,
        approvals_needed=needed,
        partner_id=partner,
        source=None if source == DETECT else source,
    )
