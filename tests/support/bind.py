"""A real BIND ``named`` on loopback, for tests and bench scripts.

One named can be several authoritative servers on one port, each with its own data: named
listens on 127.0.0.1 only (it binds interface addresses), and every other server address
(127.0.0.2, ...) is a relay (``dnsproxy.py``) that forwards from that address as source, so
named's ``match-clients`` picks that server's ``view``. Addresses listed as ``silent`` get
sockets that accept queries and never answer. With ``delay`` every answer, 127.0.0.1's too,
goes through a relay that holds it that long (the benchmark).

    with BindServer.start(tmp, zones={"d1.test": make_zone("d1.test", [...])}) as bind:
        DnsConfig(nameservers=((bind.primary, bind.port),), auth_port=bind.port)
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import dns.asyncquery
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import dns.update

from bot.dnscheck.model import DnsConfig

NAMED = os.environ.get("NAMED", shutil.which("named") or "/usr/sbin/named")
PROXY = Path(__file__).with_name("dnsproxy.py")
NAMED_ADDRESS = "127.0.0.1"  # the only loopback address named can listen on

Zones = Mapping[str, str]  # zone origin -> zone file text


class BindError(RuntimeError):
    pass


@dataclass
class BindServer:
    workdir: Path
    port: int
    views: dict[str, dict[str, str]]  # listen address -> zone origin -> zone text
    silent: tuple[str, ...] = ()
    delay: float = 0.0
    named_port: int = 0  # where named itself listens on 127.0.0.1 (== port unless relayed)
    process: subprocess.Popen[bytes] | None = None
    proxy: subprocess.Popen[bytes] | None = None
    _holes: list[socket.socket] = field(default_factory=list)

    # ------------------------------------------------------------------ lifecycle

    @classmethod
    def start(
        cls,
        workdir: Path | str,
        zones: Zones | None = None,
        *,
        views: Mapping[str, Zones] | None = None,
        silent: Sequence[str] = (),
        delay: float = 0.0,
        timeout: float = 30.0,
    ) -> BindServer:
        """Start named serving ``zones`` on 127.0.0.1, or ``views`` (address -> zones).

        Every address answers on the same (free) port; ``silent`` addresses never answer;
        ``delay`` seconds are added to every answer.
        """
        if views is None:
            views = {"127.0.0.1": dict(zones or {})}
        if not Path(NAMED).exists():
            raise BindError(f"BIND is not installed ({NAMED} missing): apt-get install bind9")
        workdir = Path(workdir)
        workdir.mkdir(parents=True, exist_ok=True)
        last: Exception | None = None
        for _ in range(3):  # a claimed port can be taken between the probe and named's bind
            port, holes = _claim_port(list(views), list(silent))
            server = cls(
                workdir,
                port,
                {a: dict(z) for a, z in views.items()},
                tuple(silent),
                delay,
                port if _direct(views, delay) else _claim_port([NAMED_ADDRESS], [])[0],
            )
            server._holes = holes
            try:
                server._launch(timeout)
                return server
            except BindError as exc:
                server.stop()
                last = exc
        raise BindError(f"named did not start: {last}")

    def _launch(self, timeout: float) -> None:
        conf = self._write_config()
        log = (self.workdir / "named.log").open("ab")
        self.process = subprocess.Popen(
            [NAMED, "-g", "-4", "-n", "1", "-c", str(conf)],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=self.workdir,
        )
        routes = [
            f"{a}:{self.port}={NAMED_ADDRESS}:{self.named_port}@{a}"
            for a in self.views
            if not self._is_direct(a)
        ]
        if routes:
            self.proxy = subprocess.Popen(
                [sys.executable, str(PROXY), "--delay", str(self.delay), *routes],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        log.close()
        self._wait_ready(timeout)

    def _is_direct(self, address: str) -> bool:
        return address == NAMED_ADDRESS and self.named_port == self.port

    def _write_config(self) -> Path:
        views = []
        # named tells servers apart by the relay's source address; 127.0.0.1 (direct queries,
        # and its own relay) goes last and takes the rest
        ordered = sorted(self.views.items(), key=lambda item: item[0] == NAMED_ADDRESS)
        for index, (address, zones) in enumerate(ordered):
            folder = self.workdir / f"view{index}"
            if folder.exists():
                shutil.rmtree(folder)
            folder.mkdir()
            zone_blocks = []
            for origin, text in zones.items():
                name = origin.rstrip(".")
                (folder / f"{name}.db").write_text(text)
                zone_blocks.append(
                    f'  zone "{name}" {{ type primary; file "{folder}/{name}.db"; '
                    "allow-update { 127.0.0.0/8; }; };"
                )
            clients = "any" if address == NAMED_ADDRESS else address
            views.append(
                f'view "view{index}" {{\n  match-clients {{ {clients}; }};\n'
                + "\n".join(zone_blocks)
                + "\n};"
            )
        conf = self.workdir / "named.conf"
        conf.write_text(
            f"""options {{
  directory "{self.workdir}";
  pid-file none;
  session-keyfile "{self.workdir}/session.key";
  managed-keys-directory "{self.workdir}";
  listen-on port {self.named_port} {{ {NAMED_ADDRESS}; }};
  listen-on-v6 {{ none; }};
  recursion no;
  dnssec-validation no;
  minimal-responses yes;
  notify no;
}};
controls {{ }};
"""
            + "\n".join(views)
            + "\n"
        )
        return conf

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        pending = {a: next(iter(z), ".") for a, z in self.views.items()}
        while pending:
            for process in (self.process, self.proxy):
                if process is not None and process.poll() is not None:
                    raise BindError(f"exited ({process.returncode}): {self.log_tail()}")
            if time.monotonic() > deadline:
                raise BindError(f"named did not answer within {timeout}s: {self.log_tail()}")
            for address, zone in list(pending.items()):
                query = dns.message.make_query(zone, "SOA")
                with contextlib.suppress(Exception):
                    reply = dns.query.udp(query, address, timeout=0.2, port=self.port)
                    if reply.rcode() == dns.rcode.NOERROR and reply.answer:
                        del pending[address]
            time.sleep(0.05)

    def log_tail(self, lines: int = 15) -> str:
        path = self.workdir / "named.log"
        text = path.read_text(errors="replace") if path.exists() else ""
        return " | ".join(text.strip().splitlines()[-lines:])

    def stop(self) -> None:
        for process in (self.proxy, self.process):
            if process is not None and process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        self.process = self.proxy = None
        for hole in self._holes:
            hole.close()
        self._holes = []

    def __enter__(self) -> BindServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # ------------------------------------------------------------------ how to reach it

    @property
    def primary(self) -> str:
        return next(iter(self.views))

    @property
    def nameserver_arg(self) -> str:
        """``--nameserver`` / TRANSITION_NAMESERVERS value for the primary: "127.0.0.1:PORT"."""
        return f"{self.primary}:{self.port}"

    def dns_config(self, timeout: float = 3.0) -> DnsConfig:
        """The resolver is the primary; authoritative servers are asked on this port. The
        timeout is long enough for a loaded machine (a late answer reads as ``unknown``); tests
        of silent servers pass a short one."""
        return DnsConfig(
            nameservers=((self.primary, self.port),), timeout=timeout, auth_port=self.port
        )

    # ------------------------------------------------------------------ changing records

    def _servers_for(self, zone: str, servers: Sequence[str] | None) -> list[str]:
        if servers is not None:
            return list(servers)
        name = zone.rstrip(".")
        return [a for a, zones in self.views.items() if name in {z.rstrip(".") for z in zones}]

    @staticmethod
    def _message(
        zone: str,
        replace: Mapping[tuple[str, str], Sequence[str]],
        delete: Sequence[tuple[str, str]],
        ttl: int,
    ) -> dns.update.UpdateMessage:
        message = dns.update.UpdateMessage(zone.rstrip(".") + ".")
        for name, rdtype in delete:
            message.delete(name, rdtype)
        for (name, rdtype), values in replace.items():
            if values:
                message.replace(name, ttl, rdtype, *values)
            else:
                message.delete(name, rdtype)
        return message

    async def update(
        self,
        zone: str,
        *,
        replace: Mapping[tuple[str, str], Sequence[str]] | None = None,
        delete: Sequence[tuple[str, str]] = (),
        ttl: int = 300,
        servers: Sequence[str] | None = None,
    ) -> None:
        """DNS UPDATE on every server (view) holding ``zone``, or only on ``servers``.

        ``replace`` maps (name, type) -> values; names relative to the zone ("@", "autodiscover")
        or absolute with a trailing dot; no values deletes the set.
        """
        message = self._message(zone, replace or {}, delete, ttl)
        for address in self._servers_for(zone, servers):
            reply = await dns.asyncquery.tcp(message, address, timeout=5, port=self.port)
            _check_update(reply, zone, address)

    def update_sync(
        self,
        zone: str,
        *,
        replace: Mapping[tuple[str, str], Sequence[str]] | None = None,
        delete: Sequence[tuple[str, str]] = (),
        ttl: int = 300,
        servers: Sequence[str] | None = None,
    ) -> None:
        """:meth:`update` for scripts without an event loop."""
        message = self._message(zone, replace or {}, delete, ttl)
        for address in self._servers_for(zone, servers):
            reply = dns.query.tcp(message, address, timeout=5, port=self.port)
            _check_update(reply, zone, address)

    async def set_records(
        self,
        zone: str,
        name: str,
        rdtype: str,
        *values: str,
        ttl: int = 300,
        servers: Sequence[str] | None = None,
    ) -> None:
        """Make ``name``/``rdtype`` hold exactly ``values`` (none: delete it)."""
        await self.update(zone, replace={(name, rdtype): values}, ttl=ttl, servers=servers)


def _direct(views: Mapping[str, Zones], delay: float) -> bool:
    """named can answer on the public port itself: it serves 127.0.0.1 and nothing is delayed."""
    return NAMED_ADDRESS in views and not delay


def _check_update(reply: dns.message.Message, zone: str, address: str) -> None:
    if reply.rcode() != dns.rcode.NOERROR:
        raise BindError(f"UPDATE of {zone} at {address} failed: {dns.rcode.to_text(reply.rcode())}")


def _claim_port(addresses: list[str], silent: list[str]) -> tuple[int, list[socket.socket]]:
    """A port free for UDP and TCP on every address; silent addresses keep their sockets."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        opened: list[socket.socket] = []
        try:
            for address in addresses + silent:
                for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
                    sock = socket.socket(socket.AF_INET, kind)
                    opened.append(sock)
                    sock.bind((address, port))
        except OSError:
            for sock in opened:
                sock.close()
            continue
        holes: list[socket.socket] = []
        for sock in opened:
            if sock.getsockname()[0] in silent:
                if sock.type == socket.SOCK_STREAM:
                    sock.listen(64)  # connections queue up and are never served
                holes.append(sock)
            else:
                sock.close()
        return port, holes
    raise BindError("no free port on loopback")
