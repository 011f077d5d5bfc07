"""The hand-rendered queries and reply checks of bot/dnscheck/udp.py, against dnspython's own."""

from __future__ import annotations

import dns.flags
import dns.message
import dns.rcode
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.dnscheck.evaluate import Question
from bot.dnscheck.udp import PreparedQuestion

label = st.from_regex(r"[a-z0-9_]([a-z0-9-]{0,20}[a-z0-9])?", fullmatch=True)
names = st.lists(label, min_size=1, max_size=5).map(lambda labels: ".".join([*labels, "test"]))
types = st.sampled_from(["MX", "TXT", "CNAME", "SRV", "NS", "A"])


def prepared(name: str, rdtype: str) -> PreparedQuestion:
    question = Question(name, rdtype)
    return PreparedQuestion(question.rdname, question.rdtype)


@given(names, types, st.integers(0, 0xFFFF))
def test_query_is_rendered_as_make_query_renders_it(name: str, rdtype: str, query_id: int) -> None:
    question = prepared(name, rdtype)
    query = dns.message.make_query(name, rdtype, use_edns=0, payload=1232)
    query.flags &= ~dns.flags.RD
    query.id = query_id
    assert question.query_wire(query_id) == query.to_wire()
    assert question.query_message().to_wire()[2:] == query.to_wire()[2:]


def reply(
    name: str, rdtype: str, rcode: dns.rcode.Rcode = dns.rcode.NOERROR
) -> dns.message.Message:
    response = dns.message.make_response(dns.message.make_query(name, rdtype))
    response.set_rcode(rcode)
    return response


def test_a_reply_must_answer_the_question_asked() -> None:
    question = prepared("contoso.test", "MX")
    assert question.is_answered_by(reply("contoso.test", "MX"))
    assert question.is_answered_by(reply("CONTOSO.test", "MX"))  # names compare without case
    assert not question.is_answered_by(reply("contoso.test", "TXT"))
    assert not question.is_answered_by(reply("other.test", "MX"))
    query = dns.message.make_query("contoso.test", "MX")
    assert not question.is_answered_by(query)  # not a response (QR clear)


@pytest.mark.parametrize(
    ("rcode", "accepted"),
    [(dns.rcode.REFUSED, True), (dns.rcode.SERVFAIL, True), (dns.rcode.NOERROR, False)],
)
def test_an_error_reply_may_leave_out_the_question(rcode: dns.rcode.Rcode, accepted: bool) -> None:
    response = reply("contoso.test", "MX", rcode)
    response.question = []
    assert prepared("contoso.test", "MX").is_answered_by(response) is accepted
