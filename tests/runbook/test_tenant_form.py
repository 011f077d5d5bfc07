"""The start modal's fields -> a valid tenant, or an error per field."""

from __future__ import annotations

import pytest

from bot.core.tenant_form import FormErrors, TenantForm, validate


def test_valid_form_keeps_order_and_dedupes_domains() -> None:
    valid = validate(
        TenantForm(
            name="",
            domains="Contoso.com, bücher.de contoso.com",
            time_zone="Europe/Berlin",
            approvers=("U1", "U2", "U1"),
            approvals_needed="2",
            partner_id="1234567",
        )
    )
    assert [d.ascii for d in valid.domains] == ["contoso.com", "xn--bcher-kva.de"]
    assert valid.name == "contoso.com"  # defaults to the primary domain
    assert valid.approvers == ("U1", "U2") and valid.approvals_needed == 2


@pytest.mark.parametrize(
    ("form", "field"),
    [
        (TenantForm(domains=""), "domains"),
        (TenantForm(domains="http://"), "domains"),
        (TenantForm(domains="a.com", time_zone="Nowhere/City", approvers=("U1",)), "time_zone"),
        (TenantForm(domains="a.com", approvals_needed="0", approvers=("U1",)), "approvals_needed"),
        (TenantForm(domains="a.com", approvals_needed="3", approvers=("U1",)), "approvers"),
        (TenantForm(domains="a.com", source="lotus-notes", approvers=("U1",)), "source"),
        (TenantForm(domains="a.com", source="other:bad host", approvers=("U1",)), "source"),
        (
            TenantForm(domains="a.com", internal_dns_server="dns.local", approvers=("U1",)),
            "internal_dns",
        ),
        (TenantForm(domains="a.com", partner_id="x y", approvers=("U1",)), "partner_id"),
    ],
)
def test_each_bad_field_gets_its_own_error(form: TenantForm, field: str) -> None:
    with pytest.raises(FormErrors) as errors:
        validate(form)
    assert field in errors.value.errors
    assert all(errors.value.errors.values())


def test_onprem_without_an_internal_server_is_allowed_and_the_source_is_kept() -> None:
    valid = validate(
        TenantForm(domains="a.com", onprem_exchange=True, approvers=("U1",), source="zoho")
    )
    assert valid.onprem_exchange and valid.internal_dns_server is None  # manual Done stays
    assert valid.source == "zoho"
    assert validate(TenantForm(domains="a.com", approvers=("U1",), source="detect")).source is None


def test_another_provider_named_by_its_mx_host_is_kept() -> None:
    form = TenantForm(domains="a.com", approvers=("U1",), source="other:MX01.Hoster.net")
    assert validate(form).source == "other:mx01.hoster.net"
