"""Validation of the Graph credentials modal."""

from __future__ import annotations

import pytest

from bot.mailbox.form import GraphField, GraphFormErrors, validate_graph_form

GUID = "72F988BF-86F1-41AF-91AB-2D7CD011DB47"


def test_valid_form_normalised() -> None:
    form = validate_graph_form(
        " contoso.onmicrosoft.com ",
        GUID,
        " s3cr3t~value ",
        "A@Contoso.com, b@contoso.com\na@contoso.com",
        "95%",
    )
    assert form.azure_tenant_id == "contoso.onmicrosoft.com"
    assert form.client_id == GUID.lower()
    assert form.addresses == ("a@contoso.com", "b@contoso.com")
    assert form.required_share == pytest.approx(0.95)
    assert "s3cr3t" not in repr(form)


def test_defaults_every_mailbox() -> None:
    form = validate_graph_form(GUID, GUID, "x", "", "")
    assert form.addresses == () and form.required_share == 1.0


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (("not a tenant", GUID, "x", "", ""), GraphField.AZURE_TENANT),
        ((GUID, "1234", "x", "", ""), GraphField.CLIENT_ID),
        ((GUID, GUID, "  ", "", ""), GraphField.SECRET),
        ((GUID, GUID, "has space", "", ""), GraphField.SECRET),
        ((GUID, GUID, "x", "a@b.com, nope", ""), GraphField.ADDRESSES),
        ((GUID, GUID, "x", "", "0"), GraphField.SHARE),
        ((GUID, GUID, "x", "", "120"), GraphField.SHARE),
        ((GUID, GUID, "x", "", "lots"), GraphField.SHARE),
    ],
)
def test_errors_name_the_field(args: tuple[str, ...], field: GraphField) -> None:
    with pytest.raises(GraphFormErrors) as info:
        validate_graph_form(*args)
    assert set(info.value.errors) == {field}


def test_secret_never_in_errors() -> None:
    with pytest.raises(GraphFormErrors) as info:
        validate_graph_form("bad tenant", GUID, "topsecret-value", "", "")
    assert "topsecret" not in str(info.value)
