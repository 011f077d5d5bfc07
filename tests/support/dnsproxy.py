"""A DNS relay for loopback labs: UDP and TCP, optional fixed delay on every answer.

Why: named only listens on interface addresses (127.0.0.1), while tests need several
authoritative servers on one port (127.0.0.2, ...). A relay on 127.0.0.2:PORT forwards to named
*from* source 127.0.0.2 (any 127/8 address is local on Linux), and named's
``match-clients { 127.0.0.2; }`` view answers with that server's data. The benchmark uses the
same relay with ``--delay`` to give every answer a fixed latency.

Run as a process (standalone, no project imports):
    python dnsproxy.py --delay 0.1 LISTEN_IP:PORT=UPSTREAM_IP:PORT@SOURCE_IP ...
It prints "ready" once every listener is bound.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Route:
    listen: tuple[str, int]
    upstream: tuple[str, int]
    source: str


def parse_route(text: str) -> Route:
    listen, _, rest = text.partition("=")
    upstream, _, source = rest.partition("@")

    def hostport(value: str) -> tuple[str, int]:
        host, _, port = value.rpartition(":")
        return host, int(port)

    up = hostport(upstream)
    return Route(hostport(listen), up, source or up[0])


RECEIVE_BUFFER = 4 << 20  # bursts of thousands of queries must queue, not drop


def _udp_socket(address: tuple[str, int]) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER)
    sock.setblocking(False)
    sock.bind(address)
    return sock


class _Datagrams(asyncio.DatagramProtocol):
    """Hands every datagram to a callback (one class for both sides of the relay)."""

    def __init__(self, receive: Callable[[bytes, tuple[str, int]], None]) -> None:
        self.receive = receive

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.receive(data, addr)


class UdpRelay:
    """One upstream socket per route; queries get a fresh message ID so that answers find
    their way back to the right client (no socket and no task per query)."""

    def __init__(self, route: Route, delay: float) -> None:
        self.route, self.delay = route, delay
        self.pending: dict[int, tuple[bytes, tuple[str, int]]] = {}  # id -> (client id, client)
        self.next_id = 0
        self.front: asyncio.DatagramTransport | None = None
        self.back: asyncio.DatagramTransport | None = None

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        front = _udp_socket(self.route.listen)
        back = _udp_socket((self.route.source, 0))
        back.connect(self.route.upstream)
        self.front, _ = await loop.create_datagram_endpoint(
            lambda: _Datagrams(self.from_client), sock=front
        )
        self.back, _ = await loop.create_datagram_endpoint(
            lambda: _Datagrams(self.from_upstream), sock=back
        )

    def from_client(self, data: bytes, client: tuple[str, int]) -> None:
        if len(data) < 12 or self.back is None:
            return
        self.next_id = (self.next_id + 1) % 65536  # older entries are long answered or lost
        self.pending[self.next_id] = (data[:2], client)
        self.back.sendto(self.next_id.to_bytes(2, "big") + data[2:])

    def from_upstream(self, data: bytes, _addr: tuple[str, int]) -> None:
        entry = self.pending.pop(int.from_bytes(data[:2], "big"), None) if len(data) >= 12 else None
        if entry is None or self.front is None:
            return
        client_id, client = entry
        reply = client_id + data[2:]
        if self.delay:
            asyncio.get_running_loop().call_later(self.delay, self.front.sendto, reply, client)
        else:
            self.front.sendto(reply, client)


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float) -> None:
    with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
        while True:
            header = await reader.readexactly(2)
            body = await reader.readexactly(int.from_bytes(header, "big"))
            if delay:
                await asyncio.sleep(delay)
            writer.write(header + body)
            await writer.drain()
    writer.close()


def tcp_handler(
    route: Route, delay: float
) -> Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(
                *route.upstream, local_addr=(route.source, 0)
            )
        except OSError:
            writer.close()
            return
        await asyncio.gather(_pump(reader, up_writer, 0.0), _pump(up_reader, writer, delay))

    return handle


async def serve(routes: list[Route], delay: float) -> None:
    for route in routes:
        await UdpRelay(route, delay).start()
        await asyncio.start_server(tcp_handler(route, delay), *route.listen)
    print("ready", flush=True)
    await asyncio.Event().wait()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--delay", type=float, default=0.0, help="seconds added to every answer")
    parser.add_argument("routes", nargs="+", help="LISTEN_IP:PORT=UPSTREAM_IP:PORT@SOURCE_IP")
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve([parse_route(r) for r in args.routes], args.delay))


if __name__ == "__main__":
    main()
