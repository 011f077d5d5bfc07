"""Messages of ``/transition check``: the audit report (posted, then updated in place by
Re-check), the "Checking…" ack, and the short error texts."""

from __future__ import annotations

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, HeaderBlock

from bot.blocks.common import (
    MAX_BLOCKS,
    MAX_HEADER_TEXT,
    code,
    context,
    escape,
    pack_sections,
    section,
    truncate,
)
from bot.blocks.ids import ActionId
from bot.dnscheck.model import Audit, AuditErrorKind, RecordResult, Verdict
from bot.dnscheck.tenant import EXPECTED_FROM_TEXT, ExpectedFrom

VERDICT_EMOJI: dict[Verdict, str] = {
    Verdict.OK: ":white_check_mark:",
    Verdict.MISSING: ":heavy_plus_sign:",
    Verdict.WRONG: ":x:",
    Verdict.LEGACY: ":wastebasket:",
    Verdict.CONFLICT: ":no_entry:",
    Verdict.INCONSISTENT: ":twisted_rightwards_arrows:",
    Verdict.UNKNOWN: ":grey_question:",
}
# Summary order: good news first, then what to change, then what we could not tell.
SUMMARY_ORDER = (
    Verdict.OK,
    Verdict.WRONG,
    Verdict.LEGACY,
    Verdict.MISSING,
    Verdict.CONFLICT,
    Verdict.INCONSISTENT,
    Verdict.UNKNOWN,
)
RECHECK_LABEL = "Re-check"


def mx_warning(audit: Audit) -> str:
    """The audit's MX warning (every server or some of them), bold; "" when MX has not moved."""
    return f"*:warning: {escape(audit.mx_warning)}*" if audit.mx_warning else ""


def checking_text(domain: str) -> str:
    return f"Checking {domain}…"


def summary_line(audit: Audit) -> str:
    """``"6 ok · 1 wrong · 2 legacy · 1 missing"`` (verdicts with a count only)."""
    counts = audit.summary()
    parts = [f"{counts[v.value]} {v.value}" for v in SUMMARY_ORDER if counts.get(v.value)]
    return " · ".join(parts) or "no records checked"


def report_text(audit: Audit) -> str:
    """Notification / fallback text of the report."""
    return f"DNS check of {audit.display_domain}: {summary_line(audit)}"


def error_text(audit: Audit) -> str:
    """One line for an audit that could not run (NXDOMAIN, no reachable server)."""
    if audit.error is AuditErrorKind.NXDOMAIN:
        return f"{audit.display_domain} does not exist in DNS. Check the spelling of the domain."
    reason = audit.error_message or f"could not reach the DNS servers of {audit.display_domain}"
    return f"{reason[:1].upper()}{reason[1:]}. No record was judged; try again in a minute."


def recheck_failed_text(audit: Audit) -> str:
    return f"{error_text(audit)} The report above is unchanged."


def not_in_channel_note() -> str:
    return (
        "_I am not a member of this channel, so this report cannot be updated in place: "
        "invite me with `/invite @transition-bot` and run the check again._"
    )


def record_text(record: RecordResult) -> str:
    head = (
        f"{VERDICT_EMOJI[record.verdict]} *{escape(record.id)}* · {escape(record.type)} "
        f"{code(record.name)} — *{record.verdict.value}*"
    )
    if not record.required:
        head += " _(optional)_"
    lines = [head]
    if record.verdict is Verdict.INCONSISTENT and record.servers:
        for server, values in record.servers.items():
            shown = ", ".join(code(v) for v in values) or "nothing"
            lines.append(f"{escape(server)}: {shown}")
    elif record.found:
        found = ", ".join(code(v) for v in record.found)
        ttl = f" (TTL {record.ttl})" if record.ttl is not None else ""
        lines.append(f"Found: {found}{ttl}")
    elif record.verdict is not Verdict.UNKNOWN:
        lines.append("Found: nothing")
    if record.verdict is not Verdict.OK and record.expected:
        source = EXPECTED_FROM_TEXT.get(ExpectedFrom(record.expected_from), "")
        lines.append(f"Expected: {code(record.expected)}" + (f" _({source})_" if source else ""))
    if record.fix:
        lines.append(f"Fix: *{escape(record.fix)}*")
    if record.detail:
        lines.append(f"_{escape(record.detail)}_")
    return "\n".join(lines)


def sources_text(audit: Audit) -> str:
    """Where the expected values came from, when some came from the tenant ("" otherwise)."""
    tenant = [r.id for r in audit.records if r.expected_from == ExpectedFrom.TENANT]
    if not tenant:
        return ""
    return (
        f"Expected values {EXPECTED_FROM_TEXT[ExpectedFrom.TENANT]}: {', '.join(tenant)}; "
        f"the others are {EXPECTED_FROM_TEXT[ExpectedFrom.DEFAULT]}."
    )


def recheck_button(domain: str) -> ButtonElement:
    return ButtonElement(text=RECHECK_LABEL, action_id=ActionId.RECHECK.value, value=domain)


def check_report(audit: Audit, *, note: str = "") -> list[Block]:
    """The full report: header, summary, MX warning, one section per record, servers,
    Re-check. At most 50 blocks whatever the number of records."""
    head: list[Block] = [
        HeaderBlock(text=truncate(f"DNS check: {audit.display_domain}", MAX_HEADER_TEXT)),
        section(
            f"*{summary_line(audit)}*"
            + ("" if audit.needs_change else "\nEvery required record is right.")
        ),
    ]
    if audit.mail_now:
        chosen = f" (source set to {audit.source_title})" if audit.source_chosen else ""
        head.append(context(f":mailbox_with_mail: {escape(audit.mail_now)}{escape(chosen)}"))
    if audit.mx_warning:
        head.append(section(mx_warning(audit)))
    head += [section(f"*:warning: {escape(caution)}*") for caution in audit.cautions]
    if audit.tenant_note:
        head.append(context(f":information_source: {escape(audit.tenant_note)}"))
    if sources := sources_text(audit):
        head.append(context(escape(sources)))
    tail: list[Block] = []
    if audit.servers:
        tail.append(context("Asked " + ", ".join(escape(s) for s in audit.servers)))
    if note:
        tail.append(context(note))
    tail.append(ActionsBlock(block_id="check", elements=[recheck_button(audit.domain)]))
    records = pack_sections(
        [record_text(r) for r in audit.records], MAX_BLOCKS - len(head) - len(tail)
    )
    return [*head, *records, *tail]
