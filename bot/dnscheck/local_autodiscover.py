"""The guide's step 5: the company's internal DNS server must send Outlook to Exchange Online.

Inside the network, Outlook resolves ``autodiscover.<domain>`` (and ``_autodiscover._tcp``) at
the internal DNS server, which often still points at the on-premises Exchange. The bot asks that
server itself, with recursion desired, as a client in the network would:

- ``autodiscover.<domain>`` CNAME and A;
- ``_autodiscover._tcp.<domain>`` SRV.

It is right when the name is a CNAME to ``autodiscover.outlook.com``, or the SRV record points
to it on port 443 (Microsoft Learn, "External Domain Name System records for Office 365":
autodiscover CNAME autodiscover.outlook.com; the SRV form is Outlook's fallback lookup,
"Autodiscover for Exchange", learn.microsoft.com/exchange/architecture/client-access/autodiscover).

``judge`` is pure (answers in, verdict out); ``bot.dnscheck.local_query`` does the asking.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from bot.dnscheck.evaluate import (
    Question,
    ServerAnswer,
    typed_value,
)
from bot.dnscheck.model import RecordResult, Verdict
from bot.ops.config import ConfigError, parse_hostport

TARGET = "autodiscover.outlook.com"
SRV_PORT = 443
# Exchange's Service Connection Point in Active Directory is not DNS: domain-joined Outlook asks
# it first (learn.microsoft.com/powershell/module/exchange/set-clientaccessservice).
SCP_REMINDER = (
    "Domain-joined Outlook asks Active Directory's Service Connection Point before DNS: clear "
    "it on every Exchange server with `Set-ClientAccessService -Identity <server> "
    "-AutoDiscoverServiceInternalUri $null` once the mailboxes are in Exchange Online."
)


class LocalState(StrEnum):
    OK = "ok"  # CNAME (or SRV on 443) to autodiscover.outlook.com
    WRONG = "wrong"  # points elsewhere (the on-premises Exchange, an A record)
    MISSING = "missing"  # the internal server has none of the three records
    UNREACHABLE = "unreachable"  # no answer: not a change, the manual Done stays


@dataclass(frozen=True)
class LocalAutodiscover:
    server: str  # as configured: "10.0.0.53" or "10.0.0.53:5353"
    domain: str
    state: LocalState
    found: tuple[str, ...] = ()  # "CNAME mail.contoso.com", "A 10.0.0.20", "SRV 0 0 443 ..."
    detail: str = ""  # one line for people

    @property
    def known(self) -> bool:
        return self.state is not LocalState.UNREACHABLE

    def summary(self) -> str:
        """The line the runbook step and the CLI show."""
        if self.state is LocalState.UNREACHABLE:
            return self.detail
        found = ", ".join(self.found) or "nothing"
        return f"{self.server} answers {found} — {self.detail}"

    def to_json(self) -> dict[str, Any]:
        return {
            "server": self.server,
            "domain": self.domain,
            "state": self.state.value,
            "found": list(self.found),
            "detail": self.detail,
            "summary": self.summary(),
        }


ROW_VERDICTS = {
    LocalState.OK: Verdict.OK,
    LocalState.WRONG: Verdict.WRONG,
    LocalState.MISSING: Verdict.MISSING,
    LocalState.UNREACHABLE: Verdict.UNKNOWN,
}


def as_row(result: LocalAutodiscover) -> RecordResult:
    """The ``local-autodiscover`` row of `transition-bot check --internal-dns`."""
    name = f"autodiscover.{result.domain}"
    fixes: tuple[str, ...] = ()
    if result.state in (LocalState.WRONG, LocalState.MISSING):
        fixes = (f"On the internal DNS server {result.server}: {result.detail}",)
    return RecordResult(
        id="local-autodiscover",
        verdict=ROW_VERDICTS[result.state],
        name=name,
        type="CNAME",
        expected=f"{TARGET} (at the internal DNS server {result.server})",
        found=result.found,
        fix="\n".join(fixes),
        fixes=fixes,
        servers={result.server: result.found or (f"<{result.state.value}>",)},
        detail=result.detail if result.state is not LocalState.WRONG else SCP_REMINDER,
    )


def questions(domain: str) -> tuple[Question, Question, Question]:
    name = f"autodiscover.{domain}"
    return (
        Question(name, "CNAME"),
        Question(name, "A"),
        Question(f"_autodiscover._tcp.{domain}", "SRV"),
    )


def unreachable(server: str, domain: str, reason: str = "") -> LocalAutodiscover:
    why = f" ({reason})" if reason else ""
    return LocalAutodiscover(
        server,
        domain,
        LocalState.UNREACHABLE,
        detail=f"could not reach {server_host(server)} from the bot{why}",
    )


def server_host(server: str) -> str:
    try:
        return parse_hostport(server)[0]
    except ConfigError:
        return server


def _host(text: str) -> str:
    return text.lower().rstrip(".")


def judge(server: str, domain: str, answers: Mapping[Question, ServerAnswer]) -> LocalAutodiscover:
    """The verdict from the internal server's answers to :func:`questions`."""
    cname_q, a_q, srv_q = questions(domain)
    got = [answers.get(q) for q in (cname_q, a_q, srv_q)]
    if all(a is None or a.failed for a in got):
        reasons = dict.fromkeys(a.reason or a.outcome.value for a in got if a is not None)
        return unreachable(server, domain, ", ".join(reasons))
    cname, a_answer, srv = (a if a is not None and not a.failed else None for a in got)
    found: list[str] = []
    cnames = [_host(str(r.target)) for r in (cname.rdatas if cname else ())]  # type: ignore[attr-defined]
    found += [f"CNAME {t}" for t in cnames]
    if not cnames and a_answer is not None:
        found += [typed_value(r) for r in a_answer.rdatas]
    srvs = [(r.port, _host(str(r.target))) for r in (srv.rdatas if srv else ())]  # type: ignore[attr-defined]
    found += [typed_value(r) for r in (srv.rdatas if srv else ())]
    if TARGET in cnames or (SRV_PORT, TARGET) in srvs:
        how = "CNAME" if TARGET in cnames else f"SRV on port {SRV_PORT}"
        return LocalAutodiscover(
            server, domain, LocalState.OK, tuple(found), f"points to {TARGET} ({how})"
        )
    if not found:
        return LocalAutodiscover(
            server,
            domain,
            LocalState.MISSING,
            (),
            f"no autodiscover record; add autodiscover.{domain} CNAME {TARGET} on it",
        )
    return LocalAutodiscover(
        server,
        domain,
        LocalState.WRONG,
        tuple(found),
        f"change autodiscover.{domain} to CNAME {TARGET} on it "
        f"(or _autodiscover._tcp.{domain} SRV 0 0 {SRV_PORT} {TARGET})",
    )
