"""What the old platform still has in DNS after the move, each with its exact removal.

Pure: what the authoritative servers serve now in, results out. The audit lists these; only the
watch's cleanup, once MX has moved everywhere and the old MX's TTL plus the grace period have
passed, tells the channel to remove them (bot.watch.cleanup). Before MX has moved they carry no
fix at all: the source's MX and SPF include still carry the mail (the first rule).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field, replace

from bot.dnscheck.model import RecordResult, Verdict
from bot.dnscheck.sources import Source

MICROSOFT_AUTODISCOVER = "autodiscover.outlook.com"
NOT_YET = "keep it while MX has not moved (on every server): the cleanup step says when it can go"


@dataclass(frozen=True)
class Seen:
    """Records the authoritative servers serve now: on any server that answered (a record one
    server still serves is still there)."""

    domain: str
    exchanges: tuple[tuple[int, str], ...] = ()
    txt: tuple[str, ...] = ()  # apex TXT values
    dkim: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # owner -> TXT values
    autodiscover: tuple[str, ...] = ()  # typed values at autodiscover.<domain> ("CNAME x")
    complete: bool = True  # every server answered every question these came from


def _result(rid: str, name: str, rtype: str, found: tuple[str, ...], fixes: tuple[str, ...],
            detail: str) -> RecordResult:  # fmt: skip
    return RecordResult(
        id=rid,
        verdict=Verdict.LEGACY,
        name=name,
        type=rtype,
        expected="(none after the move)",
        found=found,
        fix="\n".join(fixes),
        fixes=fixes,
        required=False,
        detail=detail,
    )


def without_includes(record: str, drop: Callable[[str], bool], instead: str = "") -> str:
    """The SPF record with the dropped includes removed, every other term as written;
    ``instead`` (a term) takes the place of the first one dropped."""
    kept = []
    for word in record.split():
        term = word.lstrip("+-~?")
        if term.lower().startswith("include:") and drop(term.split(":", 1)[1].rstrip(".")):
            if instead:
                kept.append(instead)
                instead = ""
            continue
        kept.append(word)
    return " ".join(kept)


def leftovers(
    seen: Seen,
    source: Source | None,
    is_microsoft365: Callable[[str], bool],
    needed: Collection[str] = (),
    *,
    mx_moved: bool,
    microsoft_include: str,
) -> tuple[RecordResult, ...]:
    """``needed``: include targets through which the SPF record authorises Microsoft 365 (an
    own-server ``include:_spf.contoso.com`` often lists Microsoft 365's include too): never
    suggested for removal, since that would fail every mail Microsoft 365 sends. A record that
    authorises Microsoft 365 through none of them gets ``microsoft_include`` in place of the
    source's: the fix never leaves an SPF record that fails Microsoft 365's mail.
    ``mx_moved``: MX points to Microsoft 365 on every server; before that, no fix."""
    found = _leftovers(seen, source, is_microsoft365, needed, microsoft_include)
    if mx_moved:
        return found
    return tuple(replace(r, fix="", fixes=(), detail=f"{r.detail}; {NOT_YET}") for r in found)


def _leftovers(
    seen: Seen,
    source: Source | None,
    is_microsoft365: Callable[[str], bool],
    needed: Collection[str],
    microsoft_include: str,
) -> tuple[RecordResult, ...]:
    if source is None:
        return ()
    domain, title = seen.domain, source.title
    found: list[RecordResult] = []
    old_mx = [(p, h) for p, h in seen.exchanges if not is_microsoft365(h)]
    old_mx = [(p, h) for p, h in old_mx if source.is_host(h, domain)]
    if old_mx:
        values = tuple(f"{p} {h}" for p, h in old_mx)
        found.append(
            _result(
                "source-mx",
                domain,
                "MX",
                values,
                tuple(f"Delete MX {v}" for v in values),
                f"MX of {title}: senders that fall back to it deliver to the old platform",
            )
        )
    still_needed = {n.lower().rstrip(".") for n in needed}

    def retire(target: str) -> bool:
        target = target.lower().rstrip(".")
        return source.is_include(target, domain) and target not in still_needed

    for record in (t for t in seen.txt if t.lower().startswith("v=spf1")):
        includes = [
            w.lstrip("+-~?").split(":", 1)[1]
            for w in record.split()
            if w.lstrip("+-~?").lower().startswith("include:")
        ]
        old = [i for i in includes if retire(i)]
        if old:
            authorises = any(i.lower().rstrip(".") in still_needed for i in includes)
            instead = "" if authorises else f"include:{microsoft_include}"
            better = without_includes(record, retire, instead)
            terms = ", ".join("include:" + i for i in old)
            whose = f"lets {title} send as {domain}"
            if source.guessed:
                whose = (
                    f"is taken for {title}'s only because it is under its MX host's domain "
                    f"{source.mx_hosts[0]}: check that no other sender uses it"
                )
            found.append(
                _result(
                    "source-spf",
                    domain,
                    "TXT",
                    (record,),
                    (f'Change TXT "{record}" to "{better}"',),
                    f"{terms} {whose}; change it once nothing (an app, a scanner, a newsletter) "
                    f"sends through {title} any more, or its mail fails SPF",
                )
            )
    verification = tuple(t for t in seen.txt if source.is_verification(t))
    if verification:
        found.append(
            _result(
                "source-verification",
                domain,
                "TXT",
                verification,
                tuple(f'Delete TXT "{v}"' for v in verification),
                f"{title} domain verification (keep it only if another service of "
                f"{title} still needs the domain verified)",
            )
        )
    # only the source's own selectors: a key at another platform's selector (google._domainkey
    # while moving off Zoho) signs for a sender still in use
    own_dkim = {f"{s}._domainkey.{domain}" for s in source.dkim_selectors}
    for owner, values in sorted(seen.dkim.items()):
        if values and owner.lower().rstrip(".") in own_dkim:
            found.append(
                _result(
                    "source-dkim",
                    owner,
                    "TXT",
                    tuple(v[:40] + "…" if len(v) > 40 else v for v in values),
                    (f"Delete {owner} TXT (the DKIM key of {title})",),
                    f"DKIM key {title} signed with; nothing signs with it after the move",
                )
            )
    autodiscover = [v for v in seen.autodiscover if _is_source_autodiscover(v, source, domain)]
    if autodiscover:
        name = f"autodiscover.{domain}"
        found.append(
            _result(
                "source-autodiscover",
                name,
                "CNAME",
                tuple(autodiscover),
                (
                    *(f"Delete {name} {v}" for v in autodiscover if not v.startswith("CNAME ")),
                    f"Change {name} to CNAME {MICROSOFT_AUTODISCOVER}",
                ),
                f"autodiscover still sends Outlook to {title}",
            )
        )
    return tuple(found)


def _is_source_autodiscover(typed: str, source: Source, domain: str) -> bool:
    kind, _, value = typed.partition(" ")
    if kind == "CNAME":
        return value != MICROSOFT_AUTODISCOVER and source.is_autodiscover(value, domain)
    # an address at autodiscover.<domain>: the company's own server answers it
    return source.own_server and kind in ("A", "AAAA")
