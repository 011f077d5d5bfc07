"""Ask the company's internal DNS server what Outlook inside the network would be told: the
questions of :mod:`bot.dnscheck.local_autodiscover`, with recursion desired, judged there."""

from __future__ import annotations

import asyncio

import dns.asyncquery
import dns.exception
import dns.flags
import dns.message

from bot.dnscheck.evaluate import Question, ServerAnswer, answer_from_error, answer_from_message
from bot.dnscheck.local_autodiscover import LocalAutodiscover, judge, questions, unreachable
from bot.ops.config import ConfigError, parse_hostport


async def _ask(question: Question, ip: str, port: int, seconds: float) -> ServerAnswer:
    query = dns.message.make_query(question.rdname, question.rdtype)
    query.flags |= dns.flags.RD  # a client in the network asks for recursion
    try:
        response = await dns.asyncquery.udp(query, ip, timeout=seconds, port=port)
    except (dns.exception.DNSException, OSError, EOFError) as exc:
        return answer_from_error(exc)
    return answer_from_message(response, question, authoritative=False)


async def check_local_autodiscover(
    domain: str, server: str, seconds: float = 3.0
) -> LocalAutodiscover:
    """Ask the internal DNS server ``server`` (IP or IP:PORT). Never raises for DNS trouble."""
    try:
        ip, port = parse_hostport(server)
    except ConfigError:
        return unreachable(server, domain, "not an IP or IP:PORT")
    asked = questions(domain)
    replies = await asyncio.gather(*(_ask(q, ip, port, seconds) for q in asked))
    return judge(server, domain, dict(zip(asked, replies, strict=True)))
