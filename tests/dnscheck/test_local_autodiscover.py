"""The local autodiscover check against a second BIND view acting as the company's internal DNS
server (it answers contoso.test differently from the public servers, as split DNS does)."""

from __future__ import annotations

import pytest

from bot.dnscheck.local_autodiscover import LocalState
from bot.dnscheck.local_query import check_local_autodiscover
from tests.support.bind import BindServer
from tests.support.bind_fixtures import BindFactory
from tests.support.zones import make_zone

PUBLIC, INTERNAL, SILENT = "127.0.0.1", "127.0.0.4", "127.0.0.5"
DOMAIN = "contoso.test"


@pytest.fixture
def split(bind_factory: BindFactory) -> BindServer:
    public = make_zone(DOMAIN, ["autodiscover CNAME autodiscover.outlook.com."])
    internal = make_zone(DOMAIN, ["autodiscover A 10.0.0.20", "exch01 A 10.0.0.20"])
    return bind_factory(
        views={PUBLIC: {DOMAIN: public}, INTERNAL: {DOMAIN: internal}}, silent=(SILENT,)
    )


async def test_internal_server_still_pointing_on_premises_is_wrong_with_what_it_returns(
    split: BindServer,
) -> None:
    result = await check_local_autodiscover(DOMAIN, f"{INTERNAL}:{split.port}", 1.0)
    assert result.state is LocalState.WRONG
    assert result.found == ("A 10.0.0.20",)
    assert "A 10.0.0.20" in result.summary() and "autodiscover.outlook.com" in result.detail
    # the public view says otherwise: the check asked the internal server, not a resolver
    public = await check_local_autodiscover(DOMAIN, f"{PUBLIC}:{split.port}", 1.0)
    assert public.state is LocalState.OK


async def test_cname_to_exchange_online_is_ok(split: BindServer) -> None:
    await split.update(
        DOMAIN,
        delete=[("autodiscover", "A")],
        replace={("autodiscover", "CNAME"): ["autodiscover.outlook.com."]},
        servers=[INTERNAL],
    )
    result = await check_local_autodiscover(DOMAIN, f"{INTERNAL}:{split.port}", 1.0)
    assert result.state is LocalState.OK
    assert result.found == ("CNAME autodiscover.outlook.com",)


@pytest.mark.parametrize(
    ("srv", "state"),
    [
        ("0 0 443 autodiscover.outlook.com.", LocalState.OK),
        ("0 0 8443 autodiscover.outlook.com.", LocalState.WRONG),
        ("0 0 443 exch01.contoso.test.", LocalState.WRONG),
    ],
)
async def test_srv_record_counts_only_to_exchange_online_on_443(
    split: BindServer, srv: str, state: LocalState
) -> None:
    await split.update(
        DOMAIN,
        delete=[("autodiscover", "A")],
        replace={("_autodiscover._tcp", "SRV"): [srv]},
        servers=[INTERNAL],
    )
    result = await check_local_autodiscover(DOMAIN, f"{INTERNAL}:{split.port}", 1.0)
    assert result.state is state
    assert result.found == ("SRV " + srv.rstrip("."),)


async def test_no_record_at_all_is_missing(split: BindServer) -> None:
    await split.update(DOMAIN, delete=[("autodiscover", "A")], servers=[INTERNAL])
    result = await check_local_autodiscover(DOMAIN, f"{INTERNAL}:{split.port}", 1.0)
    assert result.state is LocalState.MISSING and result.found == ()


async def test_a_server_that_never_answers_is_unreachable_not_a_verdict(split: BindServer) -> None:
    result = await check_local_autodiscover(DOMAIN, f"{SILENT}:{split.port}", 0.3)
    assert result.state is LocalState.UNREACHABLE and not result.known
    assert result.summary().startswith(f"could not reach {SILENT} from the bot")
