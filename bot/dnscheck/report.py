"""The audit as data for machines (``--json``) and as a table for a terminal."""

from __future__ import annotations

import re
from typing import Any

from rich.text import Text

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


VERDICT_STYLE: dict[Verdict, str] = {
    Verdict.OK: "green",
    Verdict.MISSING: "yellow",
    Verdict.WRONG: "bold red",
    Verdict.LEGACY: "magenta",
    Verdict.CONFLICT: "bold red",
    Verdict.INCONSISTENT: "yellow",
    Verdict.UNKNOWN: "dim",
}
_DOTTED = re.compile(r"[^.]*\.|[^.]+$")


def _pieces(word: str, width: int) -> list[str]:
    """A word too wide for a line, cut after its dots (``contoso-com.mail.`` /
    ``protection.outlook.com``); a single label wider than the line is the only thing cut."""
    pieces: list[str] = []
    for part in _DOTTED.findall(word):
        pieces += [part[i : i + width] for i in range(0, len(part), width)]
    return pieces


def _longest_piece(texts: list[str]) -> int:
    """The widest word (or, in a host name, label with its dot) of ``texts``."""
    return max([8, *(len(p) for t in texts for w in t.split() for p in _DOTTED.findall(w))])


def wrap(text: str, width: int) -> list[str]:
    """Lines of at most ``width``: broken at spaces, and inside a long host name only after a
    dot, so a name is never cut inside a label (``outloo`` / ``k.com``)."""
    width = max(width, 1)
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        line = ""
        for word in paragraph.split():
            atoms = [word] if len(word) <= width else _pieces(word, width)
            for n, atom in enumerate(atoms):
                sep = " " if n == 0 and line else ""
                if len(line) + len(sep) + len(atom) <= width:
                    line += sep + atom
                else:
                    lines.append(line)
                    line = atom
        lines.append(line)
    return lines


def _note(label: str, text: str, width: int) -> list[Text]:
    """``    fix: …`` with wrapped lines indented under the text: one note reads as one."""
    prefix = f"    {label}: "
    lines = wrap(text, width - len(prefix))
    style = {"fix": "bold", "why": "dim"}.get(label, "")
    first = Text(prefix, style=style) + Text(lines[0])
    return [first, *(Text(" " * len(prefix) + line) for line in lines[1:])]


CLEANUP_WHEN = (
    "remove only once MX has moved on every server and the old MX's TTL plus the grace "
    "period have passed; the bot's cleanup step tells the channel when"
)


def _leftover_lines(audit: Audit, width: int) -> list[Text]:
    """What the source still has: after the move only, and never as a change to make now."""
    if not audit.leftovers or not audit.mx_on_microsoft365:
        return []
    out = [Text("")]
    out += [Text(line) for line in wrap(f"Left from {audit.source_title} ({CLEANUP_WHEN}):", width)]
    for record in audit.leftovers:
        out.append(Text(f"  {record.id:<20} {record.type:<5} {', '.join(record.found)}"[:width]))
        for fix in record.fixes:
            out += _note("later", fix, width)
    return out


def render(audit: Audit, width: int = 120) -> Text:
    """The table as rich text: one block of lines per record, the fix under it, the verdicts
    coloured (a console prints the colours on a terminal and plain text in a pipe)."""
    title = audit.display_domain
    if audit.display_domain != audit.domain:
        title += f" ({audit.domain})"
    out: list[Text] = [Text(f"DNS audit of {title} for Microsoft 365", style="bold")]
    if audit.servers:
        out += [
            Text(line) for line in wrap(f"Authoritative servers: {', '.join(audit.servers)}", width)
        ]
    if audit.error is not None:
        out.append(Text(f"Error: {audit.error_message}", style="bold red"))
    if audit.mail_now:
        chosen = f" (source chosen: {audit.source_title})" if audit.source_chosen else ""
        out += [Text(line) for line in wrap(f"{audit.mail_now}.{chosen}", width)]
    warnings = [audit.mx_warning] if audit.mx_warning else []
    for warning in [*warnings, *audit.cautions]:
        out += [Text(line, style="bold yellow") for line in wrap(f"WARNING: {warning}", width)]
    if audit.tenant_note:
        out += [Text(line) for line in wrap(f"Note: {audit.tenant_note}", width)]
    out.append(Text(""))
    labels = {r.id: r.id if r.required else f"{r.id} (opt)" for r in audit.records}
    id_w = max([len("RECORD"), *(len(v) for v in labels.values())])
    verdict_w = max([len("VERDICT"), *(len(r.verdict.value) for r in audit.records)])
    ttl_w = 5
    rest = width - id_w - verdict_w - ttl_w - 5  # FOUND and EXPECTED share what is left
    found_texts = [v for r in audit.records for v in r.found]
    expected_texts = [f"{r.type} {r.expected}" for r in audit.records]
    longest = max([12, *(len(v) for v in found_texts)])
    # never narrower than the longest label: a column too narrow for one would cut it
    min_found, min_expected = _longest_piece(found_texts), _longest_piece(expected_texts)
    found_w = max(min_found, min(longest, rest // 2))
    if rest - found_w < min_expected:
        found_w = max(min_found, rest - min_expected)
    expected_w = max(min_expected, rest - found_w)
    # too narrow for FOUND and EXPECTED side by side: each goes on lines of its own
    stacked = rest < min_found + min_expected
    head = f"{'RECORD':<{id_w}} {'VERDICT':<{verdict_w}} {'TTL':>{ttl_w}}"
    out.append(Text(head if stacked else f"{head} {'FOUND':<{found_w}}  EXPECTED", style="bold"))
    for record in audit.records:
        label = labels[record.id]
        expected_text = f"{record.type} {record.expected}"
        if stacked:
            found, expected = [""], [""]
        else:
            found = wrap("\n".join(record.found) or "-", found_w)  # one value a line
            expected = wrap(expected_text, expected_w)
        for i in range(max(len(found), len(expected))):
            row = Text(f"{label if i == 0 else '':<{id_w}} ")
            verdict = record.verdict.value if i == 0 else ""
            style = VERDICT_STYLE[record.verdict] if i == 0 else ""
            row += Text(f"{verdict:<{verdict_w}}", style=style)
            ttl = "" if i or record.ttl is None else str(record.ttl)
            row += Text(f" {ttl:>{ttl_w}} ")
            row += Text(f"{found[i] if i < len(found) else '':<{found_w}}  ")
            row += Text(expected[i] if i < len(expected) else "")
            row.rstrip()
            out.append(row)
        if stacked:
            for value in record.found or ("-",):
                out += _note("found", value, width)
            if record.verdict is not Verdict.OK:
                out += _note("expected", expected_text, width)
        notes = [*record.fixes, *([record.detail] if record.detail else [])]
        if record.verdict is Verdict.OK:
            notes = [record.detail] if record.detail else []
        for note in notes:
            out += _note("fix" if note in record.fixes else "why", note, width)
    out += _leftover_lines(audit, width)
    out += [Text(""), Text(f"Summary: {summary_line(audit) or 'nothing checked'}", style="bold")]
    return Text("\n").join(out)


def render_text(audit: Audit, width: int = 120) -> str:
    """The same table as plain text."""
    return render(audit, width).plain
