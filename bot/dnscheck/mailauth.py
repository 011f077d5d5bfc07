"""The mail-authentication rules, sans I/O: DKIM, DMARC, MTA-STS and TLS-RPT.

Each ``judge_*`` takes one consistent set of values (one server's, already filtered by
:func:`relevant`) and returns a :class:`Judgement`; ``evaluate.py`` runs them per server like
every other record. DKIM and DMARC are recommended: they never make the audit fail. MTA-STS is
required once a domain publishes a policy, since a policy in enforce mode that leaves Microsoft
365 out makes senders refuse its MX after the move.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from bot.dnscheck import mta_sts
from bot.dnscheck.model import Judgement, RecordResult, Verdict
from bot.dnscheck.profile import ExpectedRecord, Rule

# Words a record's TXT starts with, per rule (RFC 7489 §6.4, RFC 8461 §3.1, RFC 8460 §3).
_TXT_START = {
    Rule.DMARC: re.compile(r"^v\s*=\s*DMARC1\s*(;|$)", re.IGNORECASE),
    Rule.MTA_STS: re.compile(r"^v=STSv1\s*(;|$)"),
    Rule.TLS_RPT: re.compile(r"^v=TLSRPTv1\s*(;|$)"),
}


@dataclass(frozen=True)
class MailAuthContext:
    """What the mail-authentication rules need beyond the records themselves."""

    domain: str
    policy: mta_sts.PolicyFetch | None = None  # the MTA-STS fetch (None: no policy fetched)
    # Microsoft 365 MX hosts an MTA-STS policy must cover: the tenant's exact host when known,
    # else the Microsoft hosts in MX today, else the usual one
    microsoft_mx: tuple[str, ...] = ()
    microsoft_mx_exact: bool = False  # microsoft_mx is the tenant's own (from Graph)
    microsoft_mx_guessed: bool = False  # no Graph, MX not moved: the usual host stands in


def relevant(rule: Rule, values: Sequence[str]) -> list[str]:
    start = _TXT_START.get(rule)
    return [v for v in values if start.match(v)] if start is not None else list(values)


def tags(record: str) -> dict[str, str]:
    """``v=DMARC1; p=reject; rua=…`` as {"v": "DMARC1", "p": "reject", …} (first wins)."""
    found: dict[str, str] = {}
    for part in record.split(";"):
        key, sep, value = part.partition("=")
        if sep:
            found.setdefault(key.strip().lower(), value.strip())
    return found


# ------------------------------------------------------------------------------------ DKIM

DKIM_WHY = (
    "without it Microsoft 365 signs your mail as the onmicrosoft.com domain, which does not "
    "align with your From address, so DMARC rests on SPF alone (and forwarding breaks SPF)"
)


def judge_dkim(expected: ExpectedRecord, values: Sequence[str], domain: str) -> Judgement:
    """``expected.value`` is a regular expression: Microsoft's two forms, or the tenant's exact
    target (``evaluate.expectation`` makes it so when Graph gave one)."""
    name, want = expected.owner(domain), expected.expected(domain)
    if not values:
        add = f"Add {name} CNAME {want} {expected.add_hint}".strip()
        return Judgement(Verdict.MISSING, (add,), DKIM_WHY)
    target = values[0]
    if re.match(expected.target(domain), target, re.IGNORECASE):
        return Judgement(Verdict.OK)
    return Judgement(
        Verdict.WRONG,
        (f"Change {name} CNAME to {want} {OLD_SIGNER}",),
        f"points to {target}, not to the DKIM host Microsoft 365 expects",
    )


_WORST_FIRST = (
    Verdict.UNKNOWN,
    Verdict.INCONSISTENT,
    Verdict.CONFLICT,
    Verdict.WRONG,
    Verdict.LEGACY,
    Verdict.MISSING,
    Verdict.OK,
)


OLD_SIGNER = "once no mail leaves through the old provider (it may still sign with this selector)"


def _careful(result: RecordResult) -> RecordResult:
    """A key (TXT) where the CNAME must go is the old provider's: delete it only after the
    move, or its signed mail fails DKIM in between."""
    if result.verdict is not Verdict.CONFLICT:
        return result
    fixes = tuple(f"{f}, {OLD_SIGNER}" if f.startswith("Delete") else f for f in result.fixes)
    return replace(result, fixes=fixes, fix="\n".join(fixes))


def merge_selectors(results: Sequence[RecordResult]) -> RecordResult:
    """selector1 and selector2 as one ``dkim`` line: the worse verdict, both names."""
    results = [_careful(r) for r in results]
    if len(results) == 1:
        return results[0]
    verdict = min((r.verdict for r in results), key=_WORST_FIRST.index)
    servers: dict[str, tuple[str, ...]] = {}
    for r in results:
        for server, values in r.servers.items():
            servers[server] = (*servers.get(server, ()), *values)
    fixes = tuple(f for r in results for f in r.fixes)
    details = list(dict.fromkeys(r.detail for r in results if r.detail))
    ttls = [r.ttl for r in results if r.ttl is not None]
    resolver = None
    if all(r.resolver is not None for r in results):
        resolver = tuple(v for r in results for v in r.resolver or ())
    return replace(
        results[0],
        verdict=verdict,
        name=", ".join(r.name for r in results),
        expected=", ".join(r.expected for r in results),
        found=tuple(v for r in results for v in r.found),
        fix="\n".join(fixes),
        fixes=fixes,
        servers=servers,
        ttl=min(ttls) if ttls else None,
        detail="; ".join(details),
        resolver=resolver,
    )


# ----------------------------------------------------------------------------------- DMARC


def suggested_dmarc(domain: str) -> str:
    return f"v=DMARC1; p=none; rua=mailto:dmarc-reports@{domain}"


def judge_dmarc(expected: ExpectedRecord, values: Sequence[str], domain: str) -> Judgement:
    name = expected.owner(domain)
    if not values:
        return Judgement(
            Verdict.MISSING,
            (
                f'Add {name} TXT "{suggested_dmarc(domain)}" (the rua address receives the '
                "daily reports: use a mailbox that exists)",
            ),
            "without DMARC, receivers cannot tell your mail from spoofed mail; p=none only "
            "asks for reports, it rejects nothing",
        )
    if len(values) > 1:
        return Judgement(
            Verdict.CONFLICT,
            (f"Keep one of the {len(values)} DMARC records at {name} and delete the others",),
            f"{len(values)} DMARC records: receivers then apply none of them (RFC 7489 §6.6.3)",
        )
    policy = tags(values[0]).get("p", "").lower()
    if policy not in ("none", "quarantine", "reject"):
        return Judgement(
            Verdict.WRONG,
            (f'Change {name} TXT to "{suggested_dmarc(domain)}" (or add p=none to it)',),
            "no valid p= policy: receivers ignore the record",
        )
    return Judgement(Verdict.OK, (), policy_text(values[0]))


def policy_text(record: str) -> str:
    found = tags(record)
    parts = [f"policy p={found.get('p', '').lower()}"]
    parts += [f"{k}={found[k]}" for k in ("sp", "pct") if k in found]
    return ", ".join(parts)


def dmarc_warning(dmarc: RecordResult | None, dkim: RecordResult | None) -> str:
    """DMARC rejects or quarantines while DKIM is not set up: "" when that is not the case."""
    if dmarc is None or dmarc.verdict is not Verdict.OK or len(dmarc.found) != 1:
        return ""
    policy = tags(dmarc.found[0]).get("p", "").lower()
    if policy not in ("quarantine", "reject") or dkim is None or dkim.verdict is Verdict.OK:
        return ""
    if dkim.verdict is Verdict.UNKNOWN:
        return ""  # not known to be missing
    return (
        f"DMARC of {dmarc.name.removeprefix('_dmarc.')} says p={policy} while DKIM is not set "
        "up for Microsoft 365: mail from Microsoft 365 may be rejected after the move. Add the "
        "two DKIM CNAMEs and turn DKIM signing on first."
    )


# --------------------------------------------------------------------------------- MTA-STS


def mx_pattern(ctx: MailAuthContext) -> str:
    """The mx line to add: the tenant's exact host, else a wildcard over Microsoft's hosts."""
    if ctx.microsoft_mx_exact and ctx.microsoft_mx:
        return ctx.microsoft_mx[0]
    if ctx.microsoft_mx:
        return mta_sts.wildcard_for(ctx.microsoft_mx[0])
    return "*.mail.protection.outlook.com"


@dataclass(frozen=True)
class StsJudgement:
    judgement: Judgement
    blocks_mx: str = ""  # why the MX move must wait ("" when it need not)


def judge_mta_sts(
    expected: ExpectedRecord, values: Sequence[str], ctx: MailAuthContext
) -> StsJudgement:
    name = expected.owner(ctx.domain)
    if not values:
        return StsJudgement(Judgement(Verdict.OK, (), "no MTA-STS policy published"))
    if len(values) > 1:
        return StsJudgement(
            Judgement(
                Verdict.CONFLICT,
                (f"Keep one v=STSv1 record at {name} and delete the others",),
                f"{len(values)} MTA-STS records: senders then ignore the policy (RFC 8461 §3.1)",
            )
        )
    if mta_sts.txt_id(values[0]) is None:
        return StsJudgement(
            Judgement(
                Verdict.WRONG,
                (f'Give {name} TXT a valid id: "v=STSv1; id=<1 to 32 letters or digits>"',),
                "no valid id=: senders ignore the record (RFC 8461 §3.1)",
            )
        )
    fetch = ctx.policy
    url = mta_sts.policy_url(ctx.domain)
    if fetch is None or fetch.text is None:
        reason = fetch.error if fetch is not None else "not fetched"
        return StsJudgement(Judgement(Verdict.UNKNOWN, (), f"could not read {url}: {reason}"))
    policy = mta_sts.parse_policy(fetch.text)
    if not policy.valid:
        return StsJudgement(
            Judgement(
                Verdict.WRONG,
                (f"Correct the policy at {url}: {'; '.join(policy.errors)}",),
                "senders ignore an invalid policy (RFC 8461 §3.2)",
            )
        )
    mode = policy.mode or mta_sts.Mode.NONE  # a valid policy has a mode
    if mode is mta_sts.Mode.NONE:
        return StsJudgement(Judgement(Verdict.OK, (), "mode none: senders enforce nothing"))
    hosts = ctx.microsoft_mx or ("<tenant>.mail.protection.outlook.com",)
    left_out = [h for h in ctx.microsoft_mx if not mta_sts.covers(policy, h)]
    if ctx.microsoft_mx and not left_out:
        covered = f"mode {mode.value}; its mx lines cover {', '.join(hosts)}"
        # senders keep a cached policy until its max_age unless the TXT's id changes
        cached = " (if that line is new: the id in the TXT must have changed too)"
        guessed = (
            "; Microsoft 365's MX is not known yet, so the usual host was checked: if the admin "
            "center shows an mx.microsoft host, the policy must list that host exactly"
            if ctx.microsoft_mx_guessed
            else ""
        )
        return StsJudgement(Judgement(Verdict.OK, (), covered + cached + guessed))
    missing = ", ".join(left_out or hosts)
    fix = (
        f"Add the line `mx: {mx_pattern(ctx)}` to the policy at {url} (keep the other mx "
        f"lines until MX has moved), then change the id in {name} TXT so senders fetch it again",
    )
    if mode is mta_sts.Mode.TESTING:
        return StsJudgement(
            Judgement(
                Verdict.WRONG,
                fix,
                f"mode testing and its mx lines ({', '.join(policy.mx)}) leave out Microsoft 365's "
                f"MX ({missing}): senders deliver anyway but report failures",
            )
        )
    blocker = (
        f"the MTA-STS policy of {ctx.domain} is in enforce mode and its mx lines "
        f"({', '.join(policy.mx)}) leave out Microsoft 365's MX ({missing}): senders that honour "
        "it would refuse to deliver to Microsoft 365"
    )
    return StsJudgement(Judgement(Verdict.WRONG, fix, blocker), blocks_mx=blocker)


# --------------------------------------------------------------------------------- TLS-RPT


def judge_tls_rpt(expected: ExpectedRecord, values: Sequence[str], domain: str) -> Judgement:
    name = expected.owner(domain)
    if not values:
        return Judgement(Verdict.MISSING)  # optional, and not shown when absent
    if len(values) > 1:
        return Judgement(
            Verdict.CONFLICT,
            (f"Keep one v=TLSRPTv1 record at {name} and delete the others",),
            f"{len(values)} TLS-RPT records: senders send no reports (RFC 8460 §3)",
        )
    rua = tags(values[0]).get("rua", "")
    if not rua:
        return Judgement(
            Verdict.WRONG,
            (f"Add rua=mailto:<reports address> to {name} TXT",),
            "no rua=: senders have nowhere to send reports",
        )
    return Judgement(Verdict.OK, (), f"TLS reports go to {rua}")
