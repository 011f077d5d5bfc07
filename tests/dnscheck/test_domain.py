"""parse_domain: what people paste becomes a domain, or one clear line of why not."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from bot.core.domain import MAX_INPUT, DomainError, parse_domain


@pytest.mark.parametrize(
    ("text", "ascii_name", "unicode_name"),
    [
        ("contoso.com", "contoso.com", "contoso.com"),
        ("  Contoso.COM. ", "contoso.com", "contoso.com"),
        ("bob@contoso.com", "contoso.com", "contoso.com"),
        ("mailto:bob@Contoso.com", "contoso.com", "contoso.com"),
        ("<mailto:bob@contoso.com|bob@contoso.com>", "contoso.com", "contoso.com"),
        ("https://www.contoso.com/owa?x=1", "www.contoso.com", "www.contoso.com"),
        ("<http://contoso.com|contoso.com>", "contoso.com", "contoso.com"),
        ("http://user@contoso.com:8443/", "contoso.com", "contoso.com"),
        ("bücher.de", "xn--bcher-kva.de", "bücher.de"),
        ("XN--BCHER-KVA.de", "xn--bcher-kva.de", "bücher.de"),
        ("Bücher.DE", "xn--bcher-kva.de", "bücher.de"),
        ("例え.テスト", "xn--r8jz45g.xn--zckzah", "例え.テスト"),
    ],
)
def test_accepts_domains_addresses_urls_and_international_names(
    text: str, ascii_name: str, unicode_name: str
) -> None:
    domain = parse_domain(text)
    assert (domain.ascii, domain.unicode) == (ascii_name, unicode_name)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "Give a domain name"),
        ("   ", "Give a domain name"),
        ("192.0.2.1", "is an IP address; give the mail domain"),
        ("2001:db8::1", "is an IP address"),
        ("http://[2001:db8::1]/", "is an IP address"),
        ("bob@192.0.2.1", "is an IP address"),
        (";rm -rf /", "is not a domain name"),
        ("contoso.com; rm -rf /", "is not a domain name"),
        ("not a domain", "is not a domain name"),
        ("http://x", "is not a full domain name"),
        ("contoso", "is not a full domain name"),
        ("a" * 64 + ".com", "longer than 63"),
        ("a" * 300 + ".com", "longer than 63"),
        (".".join(["a" * 60] * 5), "longer than 253"),
        ("con_toso.com", "underscores"),
        ("-contoso.com", "not a valid domain name"),
        ("contoso..com", "empty label"),
        ("x" * (MAX_INPUT + 1), "too long"),
        ("http://", "has no domain"),
        ("1.2.3", "IP address"),
    ],
)
def test_refuses_with_a_clear_line(text: str, words: str) -> None:
    with pytest.raises(DomainError) as caught:
        parse_domain(text)
    message = str(caught.value)
    assert words in message
    assert "\n" not in message and len(message) < 200


@given(st.text(max_size=300))
@example("\x00")
@example("xn--abc.com")
@example("a@b@c")
@example("<|>")
@example("http://[::1")
@example("ß.de")
def test_never_raises_anything_but_domain_error(text: str) -> None:
    try:
        domain = parse_domain(text)
    except DomainError as exc:
        assert str(exc) and "\n" not in str(exc)
    else:
        assert domain.ascii == domain.ascii.lower() and domain.ascii.isascii()
        assert not domain.ascii.endswith(".") and "." in domain.ascii


LABEL = st.text(
    alphabet=st.sampled_from("abcdefghijklmnopqrstuvwxyz0123456789äöüßéçñ例え"),
    min_size=1,
    max_size=20,
)


@given(st.lists(LABEL, min_size=1, max_size=3), st.sampled_from(["com", "de", "test", "xn--p1ai"]))
def test_round_trip_between_unicode_and_ascii(labels: list[str], tld: str) -> None:
    text = ".".join([*labels, tld])
    try:
        domain = parse_domain(text)
    except DomainError:
        return  # some generated labels are not valid IDNA (e.g. digits next to a joiner)
    assert parse_domain(domain.unicode) == domain
    assert parse_domain(domain.ascii) == domain
    assert parse_domain(f"someone@{domain.unicode}") == domain
