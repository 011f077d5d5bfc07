"""The audit as data for machines (``--json``) and as a table for a terminal."""

from __future__ import annotations

import textwrap
from typing import Any

from bot.dnscheck.model import Audit, RecordResult, Verdict

VERDICT_ORDER = tuple(Verdict)


def summary_line(audit: Audit) -> str:
    """ "6 ok · 1 wrong · 2 legacy · 1 missing" in verdict order."""
    counts = audit.summary()
    return " · ".join(f"{counts[v.value]} {v.value}" for v in VERDICT_ORDER if v.value in counts)


def record_json(record: RecordResult) -> dict[str, Any]:
    return {
        "id": record.id,
        "verdict": record.verdict.value,
        "name": record.name,
        "type": record.type,
        "expected": record.expected,
        "found": list(record.found),
        "fix": record.fix,
        "fixes": list(record.fixes),
        "servers": {server: list(values) for server, values in record.servers.items()},
        "resolver": None if record.resolver is None else list(record.resolver),
        "ttl": record.ttl,
        "required": record.required,
        "detail": record.detail,
        "expected_from": record.expected_from,  # "tenant" (Graph) or "default" (the profile)
    }


def to_json(audit: Audit) -> dict[str, Any]:
    """The object ``transition-bot check --json`` prints (issue 2), plus a few extra keys."""
    data: dict[str, Any] = {
        "domain": audit.domain,
        "display_domain": audit.display_domain,
        "records": [record_json(r) for r in audit.records],
        "summary": audit.summary(),
        "servers": list(audit.servers),
        "resolver": audit.resolver,
        "mx_on_microsoft365": audit.mx_on_microsoft365,
        "mx_servers_on_microsoft365": list(audit.mx_servers_on_microsoft365),
        "mx_moved": audit.mx_move.value,  # none / partial / all
        "tenant_note": audit.tenant_note,
        "warnings": list(audit.warnings),
        "mx_blockers": list(audit.mx_blockers),  # why MX must not move yet (MTA-STS enforce)
        "source": {
            "name": audit.source or None,
            "title": audit.source_title or None,
            "chosen": audit.source_chosen,
            "mail_now": audit.mail_now,
        },
        # what the source still has in DNS: removable only once the bot's cleanup says so
        "leftovers": [record_json(r) for r in audit.leftovers],
    }
    if audit.error is not None:
        data["error"] = audit.error.value
        data["error_message"] = audit.error_message
        data["message"] = audit.error_message  # the key bad input's error object has too
    return data


def _cell(text: str, width: int) -> list[str]:
    lines: list[str] = []
    for part in text.splitlines() or [""]:
        lines += textwrap.wrap(part, width, break_on_hyphens=False) or [""]
    return lines


def _note(label: str, text: str, width: int) -> list[str]:
    """``    fix: …`` with wrapped lines indented under the text: one note reads as one."""
    prefix = f"    {label}: "
    lines = _cell(text, width - len(prefix))
    return [prefix + lines[0], *(" " * len(prefix) + line for line in lines[1:])]


CLEANUP_WHEN = (
    "remove only once MX has moved on every server and the old MX's TTL plus the grace "
    "period have passed; the bot's cleanup step tells the channel when"
)


def _leftover_lines(audit: Audit, width: int) -> list[str]:
    """What the source still has: after the move only, and never as a change to make now."""
    if not audit.leftovers or not audit.mx_on_microsoft365:
        return []
    out = ["", f"Left from {audit.source_title} ({CLEANUP_WHEN}):"]
    for record in audit.leftovers:
        out.append(f"  {record.id:<20} {record.type:<5} {', '.join(record.found)}"[:width])
        for fix in record.fixes:
            out += _note("later", fix, width)
    return out


def render_text(audit: Audit, width: int = 120) -> str:
    """A plain-text table: one block of lines per record, the fix under it."""
    title = audit.display_domain
    if audit.display_domain != audit.domain:
        title += f" ({audit.domain})"
    out = [f"DNS audit of {title} for Microsoft 365"]
    if audit.servers:
        out.append(f"Authoritative servers: {', '.join(audit.servers)}")
    if audit.error is not None:
        out.append(f"Error: {audit.error_message}")
    if audit.mail_now:
        chosen = f" (source chosen: {audit.source_title})" if audit.source_chosen else ""
        out.append(f"{audit.mail_now}.{chosen}")
    if audit.mx_warning:
        out.append(f"WARNING: {audit.mx_warning}")
    out += [f"WARNING: {caution}" for caution in audit.cautions]
    out.append("")
    id_w, verdict_w, ttl_w = 22, 13, 6
    found_w = max(20, (width - id_w - verdict_w - ttl_w - 5) // 2)
    expected_w = max(20, width - id_w - verdict_w - ttl_w - found_w - 5)
    out.append(
        f"{'RECORD':<{id_w}} {'VERDICT':<{verdict_w}} {'TTL':>{ttl_w}} "
        f"{'FOUND':<{found_w}}  EXPECTED"
    )
    for record in audit.records:
        label = record.id if record.required else f"{record.id} (opt)"
        found = _cell(", ".join(record.found) or "-", found_w)
        expected = _cell(f"{record.type} {record.expected}", expected_w)
        for i in range(max(len(found), len(expected))):
            left = f"{label if i == 0 else '':<{id_w}} "
            left += f"{record.verdict.value if i == 0 else '':<{verdict_w}} "
            ttl = "" if i or record.ttl is None else str(record.ttl)
            left += f"{ttl:>{ttl_w}} "
            row = left + f"{found[i] if i < len(found) else '':<{found_w}}  "
            out.append((row + (expected[i] if i < len(expected) else "")).rstrip())
        notes = [*record.fixes, *([record.detail] if record.detail else [])]
        if record.verdict is Verdict.OK:
            notes = [record.detail] if record.detail else []
        for note in notes:
            out += _note("fix" if note in record.fixes else "why", note, width)
    out += _leftover_lines(audit, width)
    out += ["", f"Summary: {summary_line(audit) or 'nothing checked'}"]
    return "\n".join(out)
