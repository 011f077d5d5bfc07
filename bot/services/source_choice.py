"""The start modal's source choice: what the typed domains' mail comes from today, so the
modal can offer "another provider", named by its MX host, beside the platforms it knows."""

from __future__ import annotations

from bot.core.domain import DomainError
from bot.core.tenant_form import parse_domains
from bot.dnscheck.audit import detect_domain_source
from bot.dnscheck.model import DnsConfig
from bot.dnscheck.sources import Detected


async def detected_other(domains: str, dns: DnsConfig) -> Detected | None:
    """The detection for the primary (first) domain when it found another provider; None
    when it found a known platform, nothing, or could not tell."""
    try:
        primary = parse_domains(domains)[0]
    except DomainError:
        return None
    detected = await detect_domain_source(primary.ascii, dns)
    return detected if detected is not None and detected.other_choice else None
