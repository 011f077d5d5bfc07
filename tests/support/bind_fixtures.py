"""pytest plugin: real BIND servers on loopback.

- ``bind`` (session): one named serving ``tests/zones`` as three authoritative servers on one
  port: 127.0.0.1 (also the resolver the bot is pointed at), 127.0.0.2 (the same zones, with
  the overrides in ``tests/zones/ns2``) and 127.0.0.3, which takes queries and never answers.
- ``bind_factory`` (function): start a named with your own zones (generated domains, records a
  test changes freely); stopped at the end of the test. Its 127.0.0.1, the resolver, also
  serves the public zones that SPF includes reach (``PUBLIC_ZONES``), as the internet would.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest

from tests.support.bind import BindError, BindServer, Zones

ZONES_DIR = Path(__file__).resolve().parent.parent / "zones"
PRIMARY, SECONDARY, SILENT = "127.0.0.1", "127.0.0.2", "127.0.0.3"
# zones of tests/zones that stand for the internet: the audit follows SPF includes into them
PUBLIC_ZONES = ("outlook.com", "frontbridge.com")


def load_zones(folder: Path) -> dict[str, str]:
    """``<origin>.zone`` files of ``folder`` -> {origin: text}."""
    return {p.name.removesuffix(".zone"): p.read_text() for p in sorted(folder.glob("*.zone"))}


def fixture_views(folder: Path = ZONES_DIR) -> dict[str, dict[str, str]]:
    primary = load_zones(folder)
    secondary = {**primary, **load_zones(folder / "ns2")}
    return {PRIMARY: primary, SECONDARY: secondary}


def public_zones(folder: Path = ZONES_DIR) -> dict[str, str]:
    return {z: (folder / f"{z}.zone").read_text() for z in PUBLIC_ZONES}


def _with_public_zones(
    zones: Zones | None, views: Mapping[str, Zones] | None
) -> dict[str, dict[str, str]]:
    views = (
        {PRIMARY: dict(zones or {})} if views is None else {a: dict(z) for a, z in views.items()}
    )
    if PRIMARY in views:
        views[PRIMARY] = {**public_zones(), **views[PRIMARY]}
    return views


def _start(workdir: Path, **kwargs: object) -> BindServer:
    try:
        return BindServer.start(workdir, **kwargs)  # type: ignore[arg-type]
    except BindError as exc:
        pytest.fail(f"BIND is needed for this test and did not start: {exc}", pytrace=False)


@pytest.fixture(scope="session")
def bind(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BindServer]:
    server = _start(tmp_path_factory.mktemp("bind"), views=fixture_views(), silent=(SILENT,))
    try:
        yield server
    finally:
        server.stop()


BindFactory = Callable[..., BindServer]


@pytest.fixture
def bind_factory(tmp_path: Path) -> Iterator[BindFactory]:
    """``bind_factory(zones)`` or ``bind_factory(views={addr: zones}, silent=(...))``."""
    started: list[BindServer] = []

    def start(
        zones: Zones | None = None,
        *,
        views: Mapping[str, Zones] | None = None,
        silent: tuple[str, ...] = (),
    ) -> BindServer:
        server = _start(
            tmp_path / f"bind{len(started)}",
            views=_with_public_zones(zones, views),
            silent=silent,
        )
        started.append(server)
        return server

    try:
        yield start
    finally:
        for server in started:
            server.stop()
