"""Pure evaluation of mailbox counts."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.mailbox.report import MailboxCount, evaluate


def counts(**items: int | None) -> list[MailboxCount]:
    return [MailboxCount(f"{name}@contoso.com", n) for name, n in items.items()]


def test_all_have_mail_is_ready() -> None:
    report = evaluate(counts(a=3, b=1))
    assert report.ready
    assert report.text() == "2 of 2 mailboxes have mail."


def test_one_empty_is_not_ready_and_named() -> None:
    report = evaluate(counts(b=0, a=4, c=None))
    assert not report.ready
    assert report.text() == (
        "1 of 3 mailboxes have mail; still empty: b@contoso.com, c@contoso.com"
    )


def test_share_allows_some_empty() -> None:
    items = {f"u{i:02}": (0 if i < 2 else 5) for i in range(40)}
    report = evaluate(counts(**items), required_share=0.95)
    assert report.ready and report.needed == 38
    assert report.text().startswith("38 of 40 mailboxes have mail; still empty: u00@")
    assert not evaluate(counts(**items), required_share=0.96).ready


def test_long_list_is_cut() -> None:
    report = evaluate(counts(**{f"u{i:02}": 0 for i in range(12)}))
    assert report.text().endswith("u04@contoso.com and 7 more")


def test_no_mailboxes_is_never_ready() -> None:
    assert not evaluate([]).ready
    assert evaluate([]).text() == "No mailboxes found to check."


@pytest.mark.parametrize("share", [0, -0.1, 1.5])
def test_bad_share_refused(share: float) -> None:
    with pytest.raises(ValueError):
        evaluate([], required_share=share)


@given(
    st.lists(st.one_of(st.none(), st.integers(0, 5)), max_size=30),
    st.floats(0.01, 1.0),
)
def test_ready_iff_enough_have_mail(items: list[int | None], share: float) -> None:
    report = evaluate([MailboxCount(f"u{i}@x.test", n) for i, n in enumerate(items)], share)
    with_mail = sum(1 for n in items if n)
    assert report.with_mail == with_mail
    assert report.ready == (bool(items) and with_mail >= max(1, report.needed))
    assert len(report.empty) == len(items) - with_mail
    if share == 1.0:
        assert report.ready == (bool(items) and with_mail == len(items))
