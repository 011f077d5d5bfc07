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
import functools
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


class UdpRelay(asyncio.DatagramProtocol):
    def __init__(self, route: Route, delay: float) -> None:
        self.route, self.delay = route, delay
        self.transport: asyncio.DatagramTransport | None = None
        self.tasks: set[asyncio.Task[None]] = set()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        task = asyncio.ensure_future(self.relay(data, addr))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def relay(self, data: bytes, client: tuple[str, int]) -> None:
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[bytes] = loop.create_future()

        class Upstream(asyncio.DatagramProtocol):
            def datagram_received(self, reply: bytes, addr: tuple[str, int]) -> None:
                if not answer.done():
                    answer.set_result(reply)

        transport, _ = await loop.create_datagram_endpoint(
            Upstream, local_addr=(self.route.source, 0), remote_addr=self.route.upstream
        )
        try:
            transport.sendto(data)
            reply = await asyncio.wait_for(answer, 5.0)
        except TimeoutError:
            return
        finally:
            transport.close()
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.transport is not None:
            self.transport.sendto(reply, client)


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
    loop = asyncio.get_running_loop()
    for route in routes:
        await loop.create_datagram_endpoint(
            functools.partial(UdpRelay, route, delay), local_addr=route.listen
        )
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
