"""The Graph credentials form: pure validation of what an admin typed in the modal.

Field names are the modal's block ids, so errors map onto the inputs (``response_action:
errors``). The secret is kept out of every message and repr.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from enum import StrEnum


class GraphField(StrEnum):
    AZURE_TENANT = "azure_tenant_id"
    CLIENT_ID = "client_id"
    SECRET = "client_secret"
    ADDRESSES = "addresses"
    SHARE = "share"


MAX_SECRET = 1024
MAX_ADDRESSES = 500
TENANT_DOMAIN = re.compile(r"^[a-z0-9-]{1,63}(\.[a-z0-9-]{1,63})+$")
ADDRESS = re.compile(r"^[^@\s,;]{1,64}@[a-z0-9-]{1,63}(\.[a-z0-9-]{1,63})+$")


@dataclass(frozen=True)
class GraphForm:
    azure_tenant_id: str
    client_id: str
    client_secret: str = field(repr=False)
    addresses: tuple[str, ...] = ()  # empty: every mailbox of the tenant
    required_share: float = 1.0


class GraphFormErrors(Exception):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def _guid(text: str) -> str | None:
    try:
        return str(uuid.UUID(text.strip()))
    except ValueError:
        return None


def validate_graph_form(
    azure_tenant_id: str, client_id: str, client_secret: str, addresses: str, share: str
) -> GraphForm:
    errors: dict[str, str] = {}
    tenant = azure_tenant_id.strip().lower()
    tenant_ok = _guid(tenant) or (tenant if TENANT_DOMAIN.match(tenant) else None)
    if not tenant_ok:
        errors[GraphField.AZURE_TENANT] = (
            "Use the Directory (tenant) ID, a GUID like 72f988bf-86f1-41af-91ab-2d7cd011db47, "
            "or the tenant's domain (contoso.onmicrosoft.com)."
        )
    client = _guid(client_id)
    if not client:
        errors[GraphField.CLIENT_ID] = (
            "Use the Application (client) ID of the app registration: a GUID."
        )
    secret = client_secret.strip()
    if not secret or len(secret) > MAX_SECRET or any(c.isspace() for c in secret):
        errors[GraphField.SECRET] = "Paste the client secret's Value (not its ID), as shown once."
    listed = tuple(
        dict.fromkeys(a.strip().lower() for a in re.split(r"[\s,;]+", addresses) if a.strip())
    )
    bad = [a for a in listed if not ADDRESS.match(a)]
    if bad:
        errors[GraphField.ADDRESSES] = f"Not a mail address: {', '.join(bad[:3])}."
    elif len(listed) > MAX_ADDRESSES:
        errors[GraphField.ADDRESSES] = f"At most {MAX_ADDRESSES} addresses; leave it empty for all."
    required = 1.0
    text = share.strip().rstrip("%").strip()
    if text:
        try:
            percent = float(text)
        except ValueError:
            percent = -1.0
        if not 0 < percent <= 100:
            errors[GraphField.SHARE] = "A percentage from 1 to 100 (default 100: every mailbox)."
        else:
            required = percent / 100
    if errors:
        raise GraphFormErrors(errors)
    return GraphForm(str(tenant_ok), str(client), secret, listed, required)
