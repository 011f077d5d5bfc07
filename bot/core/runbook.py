"""The runbook of DESIGN.md as data, and its rules (pure: no Slack, no database).

The guide's eight steps in its order, then the cleanup after the move; which apply to a
tenant; which transitions a person may make (done / skip / reopen) and why not; the MX gate;
progress and the next step. The services persist what these functions decide; the handlers
and jobs never decide themselves.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum


class StepId(StrEnum):
    SOFTWARE = "software"
    PASSWORDS = "passwords"
    DNS = "dns"
    VERIFY_DATA = "verify-data"
    MX = "mx"
    AUTODISCOVER_LOCAL = "autodiscover-local"
    LYNC = "lync"
    PARTNER = "partner"
    CLEANUP = "cleanup"


class Status(StrEnum):
    OPEN = "open"
    DONE = "done"
    SKIPPED = "skipped"
    NOT_NEEDED = "not_needed"


class Action(StrEnum):
    DONE = "done"
    SKIP = "skip"
    REOPEN = "reopen"


class Actor(StrEnum):
    """Who asks for a transition: a person (button, command) or the bot's own check."""

    PERSON = "person"
    BOT = "bot"  # an automated check: the DNS audit, the watch


class Approval(StrEnum):
    NONE = "none"
    REQUIRED = "required"  # K approvals before the step may be done
    OPTIONAL = "optional"  # `/transition request` works, but the step does not wait for it


@dataclass(frozen=True)
class BotOnly:
    """A step only the bot's check may mark done: a person's Done would get past the gate the
    guide insists on. ``when`` finishes "The bot marks X done when ..."; ``instead`` says what a
    person can do."""

    when: str
    instead: str


@dataclass(frozen=True)
class Step:
    id: StepId
    title: str
    how: str
    manual: bool = True  # Done / Skip / Reopen buttons
    automated: bool = False  # a check can complete it (dns, verify-data, autodiscover-local)
    per_user: bool = False  # acknowledgement per user (passwords)
    approval: Approval = Approval.NONE
    requires: tuple[StepId, ...] = ()  # steps that must be DONE first
    onprem_only: bool = False  # not needed without an on-premises Exchange
    bot_only: BotOnly | None = None  # no manual Done: only the automated check completes it


STEPS: tuple[Step, ...] = (
    Step(
        StepId.SOFTWARE,
        "Software upgrades",
        "Supported Office and browser on every client.",
    ),
    Step(
        StepId.PASSWORDS,
        "Passwords",
        "Every user changes their password at the portal, then clicks to confirm.",
        per_user=True,
    ),
    Step(
        StepId.DNS,
        "DNS records",
        "Every Microsoft 365 record except MX is right; legacy records deleted.",
        automated=True,
        bot_only=BotOnly(
            when="every record but MX passes the DNS check on every domain",
            instead="Fix what the last check lists and run *Re-check DNS*, or skip it with a "
            "reason: `/transition skip dns <reason>`.",
        ),
    ),
    Step(
        StepId.VERIFY_DATA,
        "Verify mailbox data",
        "Mailbox data is in Office 365 (OWA shows mail).",
        automated=True,
    ),
    Step(
        StepId.MX,
        "Move MX",
        "Point MX to Microsoft 365, never before the data is verified.",
        approval=Approval.REQUIRED,
        requires=(StepId.VERIFY_DATA, StepId.DNS),
        bot_only=BotOnly(
            when="every authoritative name server serves the Microsoft 365 MX",
            instead="Once approved, change the MX at the DNS host; the bot watches every "
            "authoritative server and announces the move. `/transition status` shows where "
            "it stands.",
        ),
    ),
    Step(
        StepId.AUTODISCOVER_LOCAL,
        "Local autodiscover",
        "The internal DNS server's autodiscover record points to autodiscover.outlook.com. "
        "Outlook inside the network asks Exchange's Service Connection Point in Active "
        "Directory first: clear it too (`Set-ClientAccessService -Identity <server> "
        "-AutoDiscoverServiceInternalUri $null`).",
        automated=True,
        onprem_only=True,
    ),
    Step(
        StepId.LYNC,
        "Lync / Skype / Teams",
        "Federation and public IM enabled; federation SRV present.",
        approval=Approval.OPTIONAL,
    ),
    Step(
        StepId.PARTNER,
        "Partner of record",
        "The partner (license advisor) is set on the subscriptions.",
    ),
    Step(
        StepId.CLEANUP,
        "Clean up the old platform",
        "After the move, remove what the old platform still has in DNS (its SPF include, "
        "verification TXT, DKIM keys, old MX and autodiscover). The bot says in the channel "
        "when it is safe, with each exact change.",
        automated=True,
        requires=(StepId.MX,),
        bot_only=BotOnly(
            when="the old platform's records are gone from every authoritative server",
            instead="Remove what the cleanup message lists; the watch sees it and marks the "
            "step done. To keep them (say, an archive still on the old platform), skip it "
            "with a reason: `/transition skip cleanup <reason>`.",
        ),
    ),
)

STEP_BY_ID: dict[StepId, Step] = {step.id: step for step in STEPS}
APPROVABLE: tuple[StepId, ...] = tuple(s.id for s in STEPS if s.approval is not Approval.NONE)
FINISHED = frozenset({Status.DONE, Status.SKIPPED, Status.NOT_NEEDED})


class RunbookRefusal(Exception):
    """A transition the rules do not allow; ``reason`` says why, ``hint`` what to do instead."""

    def __init__(self, reason: str, hint: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.reason} {self.hint}".strip()


def step(step_id: str) -> Step:
    """The step with this id; a RunbookRefusal naming the valid ids otherwise."""
    try:
        return STEP_BY_ID[StepId(step_id)]
    except ValueError:
        ids = ", ".join(s.id for s in STEPS)
        raise RunbookRefusal(f"There is no step `{step_id}`.", f"The steps are: {ids}.") from None


def applies(s: Step, onprem_exchange: bool) -> bool:
    return onprem_exchange or not s.onprem_only


def initial_statuses(onprem_exchange: bool) -> dict[StepId, Status]:
    return {s.id: Status.OPEN if applies(s, onprem_exchange) else Status.NOT_NEEDED for s in STEPS}


def gate_blockers(step_id: StepId, statuses: Mapping[StepId, Status]) -> tuple[StepId, ...]:
    """The steps that must be done before ``step_id`` and are not."""
    return tuple(r for r in STEP_BY_ID[step_id].requires if statuses.get(r) is not Status.DONE)


def _names(ids: tuple[StepId, ...]) -> str:
    return " and ".join(f"*{STEP_BY_ID[i].title}* (`{i}`)" for i in ids)


def check_request(
    step_id: StepId, statuses: Mapping[StepId, Status], mx_blockers: Sequence[str] = ()
) -> None:
    """May approval be requested for this step now? Raises RunbookRefusal when not.

    ``mx_blockers``: what the DNS audits of the tenant's domains say against moving MX now
    (``Audit.mx_blockers``: an MTA-STS policy in enforce mode that leaves Microsoft 365 out)."""
    s = STEP_BY_ID[step_id]
    if s.approval is Approval.NONE:
        allowed = " or ".join(f"`{i}`" for i in APPROVABLE)
        raise RunbookRefusal(
            f"*{s.title}* does not take approvals.", f"Approvals are for {allowed}."
        )
    if statuses.get(step_id) is Status.DONE:
        raise RunbookRefusal(f"*{s.title}* is already done.", "Nothing to approve.")
    blockers = gate_blockers(step_id, statuses)
    if blockers:
        raise RunbookRefusal(
            f"Not yet: {_names(blockers)} must be done before *{s.title}*.",
            "Do not move MX until the mailbox data is verified; "
            "`/transition status` shows what is open.",
        )
    if step_id is StepId.MX and mx_blockers:
        raise RunbookRefusal(
            f"Not yet: MTA-STS — {'; '.join(mx_blockers)}.",
            "Add Microsoft 365's MX to the policy's mx lines and change the id in the "
            "`_mta-sts` TXT (`/transition check <domain>` shows the exact line), then request "
            "again.",
        )


def next_status(
    step_id: StepId,
    action: Action,
    statuses: Mapping[StepId, Status],
    *,
    approved: bool = False,
    reason: str = "",
    by: Actor = Actor.PERSON,
) -> Status:
    """The status after ``action``, or RunbookRefusal saying why the action is not allowed.

    ``approved``: the step's approval request has its approvals (needed for the MX gate).
    ``by``: a person, or the bot's automated check (the only one that may complete a
    ``bot_only`` step such as `dns` or `mx`).
    """
    s = STEP_BY_ID[step_id]
    current = statuses.get(step_id, Status.OPEN)
    _check_needed(s, current)
    if action is Action.REOPEN:
        if current is Status.OPEN:
            raise RunbookRefusal(f"*{s.title}* is already open.", "Nothing to reopen.")
        return Status.OPEN
    _check_open(s, current)
    if action is Action.SKIP:
        _check_skippable(s)
        if not reason.strip():
            raise RunbookRefusal("A skip needs a reason.", "Say why the step is skipped.")
        return Status.SKIPPED
    if s.bot_only is not None and by is not Actor.BOT:
        raise RunbookRefusal(
            f"The bot marks *{s.title}* done when {s.bot_only.when}.", s.bot_only.instead
        )
    blockers = gate_blockers(step_id, statuses)
    if blockers:
        raise RunbookRefusal(
            f"Not yet: {_names(blockers)} must be done before *{s.title}*.",
            "`/transition status` shows what is open.",
        )
    if s.approval is Approval.REQUIRED and not approved:
        raise RunbookRefusal(
            f"*{s.title}* needs its approvals first.",
            f"Ask for them with `/transition request {s.id}`.",
        )
    return Status.DONE


def _check_needed(s: Step, current: Status) -> None:
    if current is Status.NOT_NEEDED:
        raise RunbookRefusal(
            f"*{s.title}* is not needed for this tenant (no on-premises Exchange).",
            "Nothing to do here.",
        )


def _check_open(s: Step, current: Status) -> None:
    if current is not Status.OPEN:
        word = "done" if current is Status.DONE else "skipped"
        raise RunbookRefusal(
            f"*{s.title}* is already {word}.", f"Reopen it first: `/transition reopen {s.id}`."
        )


def _check_skippable(s: Step) -> None:
    if s.approval is Approval.REQUIRED:
        raise RunbookRefusal(
            f"*{s.title}* cannot be skipped: it is the cutover itself.",
            f"Request approval with `/transition request {s.id}`.",
        )


def check_skip(step_id: StepId, statuses: Mapping[StepId, Status]) -> None:
    """May this step be skipped now, given a reason? Asked before the reason is asked for, so
    a refusal comes before anyone types one. Raises RunbookRefusal when not."""
    s = STEP_BY_ID[step_id]
    current = statuses.get(step_id, Status.OPEN)
    _check_needed(s, current)
    _check_open(s, current)
    _check_skippable(s)


@dataclass(frozen=True)
class Progress:
    done: int  # done or skipped, among the steps that apply
    total: int  # steps that apply
    not_needed: int

    def __str__(self) -> str:
        return f"{self.done} of {self.total} done"


def progress(statuses: Mapping[StepId, Status]) -> Progress:
    applicable = [statuses.get(s.id, Status.OPEN) for s in STEPS]
    not_needed = sum(1 for v in applicable if v is Status.NOT_NEEDED)
    done = sum(1 for v in applicable if v in (Status.DONE, Status.SKIPPED))
    return Progress(done=done, total=len(STEPS) - not_needed, not_needed=not_needed)


def next_step(statuses: Mapping[StepId, Status]) -> Step | None:
    """The first open step in the guide's order; None when every step is finished."""
    return next((s for s in STEPS if statuses.get(s.id, Status.OPEN) is Status.OPEN), None)


def open_steps(statuses: Mapping[StepId, Status]) -> tuple[Step, ...]:
    return tuple(s for s in STEPS if statuses.get(s.id, Status.OPEN) is Status.OPEN)
