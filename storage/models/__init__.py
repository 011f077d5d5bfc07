"""The bot's tables as SQLAlchemy 2 typed models, one module per part; importing this package
registers every table on ``Base.metadata``. Alembic owns the schema (storage/migrations).

Schema rule for everyone adding to it: add columns and tables in a new migration, never rename.
A new module here is imported below.
"""

from storage.models.base import (
    NAMING_CONVENTION,
    Base,
    UTCDateTime,
    utcnow,
)
from storage.models.events import (
    SeenEvent,
)
from storage.models.tenants import (
    Acknowledgement,
    ApprovalRequest,
    ApprovalVote,
    AuditEvent,
    Reminder,
    SlackMessage,
    StepState,
    StepStatus,
    Tenant,
    TenantApprover,
    TenantDomain,
    Workspace,
    slack_bots,
    slack_installations,
    slack_oauth_states,
)
from storage.models.truth import (
    TenantDnsTruth,
)
from storage.models.watch import (
    GraphCredential,
    OutboxMessage,
    OutboxStatus,
    WatchObservation,
    WatchPoll,
)

__all__ = [
    "NAMING_CONVENTION",
    "Acknowledgement",
    "ApprovalRequest",
    "ApprovalVote",
    "AuditEvent",
    "Base",
    "GraphCredential",
    "OutboxMessage",
    "OutboxStatus",
    "Reminder",
    "SeenEvent",
    "SlackMessage",
    "StepState",
    "StepStatus",
    "Tenant",
    "TenantApprover",
    "TenantDnsTruth",
    "TenantDomain",
    "UTCDateTime",
    "WatchObservation",
    "WatchPoll",
    "Workspace",
    "slack_bots",
    "slack_installations",
    "slack_oauth_states",
    "utcnow",
]
