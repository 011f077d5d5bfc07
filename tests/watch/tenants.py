"""Watched tenants for tests and bench scripts: generated zones and tenants started through the
real tenant service (one channel and one domain each)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from bot.core.domain import Domain
from bot.core.tenant_form import ValidTenant
from bot.services.common import Caller
from bot.services.tenants import start_tenant
from storage.uow import UnitOfWork
from tests.support.zones import make_zone, microsoft365_records

TEAM = "T0TEST"
REQUESTER = "U0REQ"
APPROVERS = ("U0APP1", "U0APP2")
OLD_MX = "@ MX 10 mail.global.frontbridge.com."


def domain_names(count: int, prefix: str = "w") -> list[str]:
    return [f"{prefix}{i:04d}.test" for i in range(count)]


def channel_for(domain: str) -> str:
    return "C" + domain.split(".")[0].upper()


def watched_zones(domains: Sequence[str]) -> dict[str, str]:
    """Every record but MX right; MX still at the old provider."""
    return {d: make_zone(d, [OLD_MX, *microsoft365_records(d, mx=False)]) for d in domains}


def m365_mx(domain: str) -> str:
    return f"0 {domain.replace('.', '-')}.mail.protection.outlook.com."


async def start_tenants(
    uow_factory: Callable[[], UnitOfWork],
    domains: Sequence[str],
    *,
    time_zone: str = "UTC",
    channel: str | None = None,
    team: str = TEAM,
) -> dict[str, int]:
    """Start one tenant per domain in its own channel (or ``channel`` for a single one);
    domain -> tenant id."""
    ids: dict[str, int] = {}
    for domain in domains:
        status = await start_tenant(
            uow_factory(),
            Caller(team_id=team, user_id=REQUESTER, channel_id=channel or channel_for(domain)),
            ValidTenant(
                name=f"Tenant {domain}",
                domains=(Domain(domain, domain),),
                onprem_exchange=False,
                internal_dns_server=None,
                time_zone=time_zone,
                approvers=APPROVERS,
                approvals_needed=1,
                partner_id=None,
            ),
        )
        ids[domain] = status.tenant.id
    return ids
