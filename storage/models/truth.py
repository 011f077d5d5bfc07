"""The tenant's own DNS records as Microsoft Graph gave them, cached per tenant and domain.

``data`` is the JSON of ``bot.dnscheck.tenant.TenantTruth`` (storage does not import it):
records, isVerified, the verification TXT, or the one-line note when Graph said no.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, utcnow


class TenantDnsTruth(Base):
    __tablename__ = "tenant_dns_truths"

    tenant_id: Mapped[int] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    domain: Mapped[str] = mapped_column(String(253), primary_key=True)  # ASCII
    data: Mapped[dict[str, Any]] = mapped_column()
    fetched_at: Mapped[datetime] = mapped_column(default=utcnow)
