"""Button values: what the bot packs unpacks to the same ids; anything else is refused."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.blocks.values import ApprovalValue, ButtonValueError, StepValue, TenantValue
from bot.core.runbook import StepId

ids = st.integers(min_value=-(2**70), max_value=2**70)
values = st.one_of(
    st.builds(TenantValue, ids),
    st.builds(StepValue, ids, st.sampled_from(StepId)),
    st.builds(ApprovalValue, ids, ids),
)


@given(value=values)
def test_what_is_packed_unpacks_to_the_same_ids(
    value: TenantValue | StepValue | ApprovalValue,
) -> None:
    packed = value.pack()
    assert type(value).unpack(packed) == value
    assert len(packed) <= 2000  # Slack's limit for a button value


def test_the_packed_shapes_stay_as_slack_has_them_on_posted_messages() -> None:
    assert TenantValue(12).pack() == "12"
    assert StepValue(12, StepId.DNS).pack() == "12:dns"
    assert ApprovalValue(12, 7).pack() == "12:7"


@pytest.mark.parametrize(
    ("kind", "junk"),
    [
        (TenantValue, ""),
        (TenantValue, "twelve"),
        (TenantValue, " 12"),
        (TenantValue, "12:dns"),
        (TenantValue, "1_2"),
        (TenantValue, "012"),
        (TenantValue, "-0"),
        (TenantValue, "١٢"),  # digits, but not the ones the bot writes
        (StepValue, "12"),
        (StepValue, "12:"),
        (StepValue, ":dns"),
        (StepValue, "12:nope"),
        (StepValue, "12:DNS"),
        (StepValue, "12:dns:extra"),
        (StepValue, "x:dns"),
        (ApprovalValue, "12"),
        (ApprovalValue, "12:seven"),
        (ApprovalValue, "12:7:1"),
        (ApprovalValue, "{'a': 1}"),
    ],
)
def test_junk_is_refused_with_a_clear_error(
    kind: type[TenantValue | StepValue | ApprovalValue], junk: str
) -> None:
    with pytest.raises(ButtonValueError, match="button value"):
        kind.unpack(junk)


@given(junk=st.text(max_size=40))
def test_any_text_unpacks_or_raises_the_clear_error(junk: str) -> None:
    for kind in (TenantValue, StepValue, ApprovalValue):
        try:
            value = kind.unpack(junk)
        except ButtonValueError:
            continue
        assert value.pack() == junk  # only what the bot would have written is taken
