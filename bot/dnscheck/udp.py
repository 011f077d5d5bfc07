"""Questions to authoritative servers over UDP, with little CPU per query.

``dns.asyncquery.udp`` opens a socket, builds a ``Message`` and renders it for every query. An
audit sends about 20 queries at once, and a sweep over thousands of domains spent more of its
CPU on that than on the answers. Here the queries of one audit share a socket (its source port
picked by the system, as for dnspython's own), each with its own random id, and a query is
rendered from bytes made once per question. A reply is taken only from the server and port
asked, with the id asked, and must answer the question asked (dnspython's ``is_response``
rules), else ``dns.query.BadResponse``. A truncated reply is asked again over TCP, as
``dns.asyncquery.udp_with_fallback`` does. Errors are dnspython's exceptions, so callers classify
them the same way.
"""

from __future__ import annotations

import asyncio
import ipaddress
import struct
from types import TracebackType

import dns.asyncquery
import dns.entropy
import dns.exception
import dns.flags
import dns.inet
import dns.message
import dns.name
import dns.opcode
import dns.query
import dns.rcode
import dns.rdataclass
import dns.rdatatype

EDNS_PAYLOAD = 1232  # the DNS flag day 2020 size: no fragmentation, TCP when larger
# The OPT record of EDNS version 0 with that payload, no flags, no options: the additional
# section of every query.
_OPT = b"\x00" + struct.pack("!HHIH", dns.rdatatype.OPT, EDNS_PAYLOAD, 0, 0)
_HEADER = struct.Struct("!HHHHHH")  # id, flags, qd, an, ns, ar
_NO_QUESTION_NEEDED = frozenset(
    {dns.rcode.FORMERR, dns.rcode.SERVFAIL, dns.rcode.NOTIMP, dns.rcode.REFUSED}
)


class PreparedQuestion:
    """A question's name and type, parsed and rendered once for every server asked."""

    __slots__ = ("_wire", "name", "rdtype")

    def __init__(self, name: dns.name.Name, rdtype: dns.rdatatype.RdataType) -> None:
        self.name = name
        self.rdtype = rdtype
        rendered = self.name.to_wire()
        assert rendered is not None  # without a file to write into, to_wire returns the bytes
        self._wire = rendered + struct.pack("!HH", self.rdtype, dns.rdataclass.IN)

    def query_wire(self, query_id: int) -> bytes:
        """A non-recursive query (RD clear) with EDNS0, as ``make_query`` renders it."""
        return _HEADER.pack(query_id, 0, 1, 0, 0, 1) + self._wire + _OPT

    def query_message(self) -> dns.message.QueryMessage:
        query = dns.message.make_query(self.name, self.rdtype, use_edns=0, payload=EDNS_PAYLOAD)
        query.flags &= ~dns.flags.RD
        return query

    def is_answered_by(self, response: dns.message.Message) -> bool:
        if not response.flags & dns.flags.QR or dns.opcode.from_flags(response.flags) != 0:
            return False
        if not response.question:
            return response.rcode() in _NO_QUESTION_NEEDED
        asked = (self.name, dns.rdataclass.IN, self.rdtype, dns.rdatatype.NONE)
        return {(r.name, r.rdclass, r.rdtype, r.covers) for r in response.question} == {asked}


class _Replies(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.pending: dict[tuple[str, int, int], asyncio.Future[bytes]] = {}

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        if len(data) < _HEADER.size:
            return
        key = (_address_key(str(addr[0])), int(addr[1]), int.from_bytes(data[:2], "big"))
        waiting = self.pending.get(key)
        if waiting is not None and not waiting.done():
            waiting.set_result(data)

    def error_received(self, exc: Exception) -> None:
        # An unconnected socket cannot tell which query an error is about (dnspython's drops
        # them too): the query it concerns times out.
        pass


def _address_key(address: str) -> str:
    """IPv6 addresses have several spellings; the socket reports the compressed one."""
    return ipaddress.ip_address(address).compressed if ":" in address else address


class ServerSocket:
    """UDP sockets (one per address family, opened when first needed) for one batch of
    queries: ``async with ServerSocket() as sock: await sock.ask(...)``."""

    def __init__(self) -> None:
        self._endpoints: dict[int, tuple[asyncio.DatagramTransport, _Replies]] = {}
        self._opening = asyncio.Lock()

    async def __aenter__(self) -> ServerSocket:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        for transport, _ in self._endpoints.values():
            transport.close()
        self._endpoints.clear()

    async def _endpoint(self, family: int) -> tuple[asyncio.DatagramTransport, _Replies]:
        endpoint = self._endpoints.get(family)
        if endpoint is None:
            async with self._opening:  # the first query of a family opens it, the rest wait
                endpoint = self._endpoints.get(family)
                if endpoint is None:
                    loop = asyncio.get_running_loop()
                    endpoint = await loop.create_datagram_endpoint(_Replies, family=family)
                    self._endpoints[family] = endpoint
        return endpoint

    async def ask(
        self, question: PreparedQuestion, address: str, port: int, seconds: float
    ) -> dns.message.Message:
        """The server's reply; over TCP when the UDP one is truncated.

        Raises what ``dns.asyncquery.udp_with_fallback`` raises: ``dns.exception.Timeout``,
        ``dns.query.BadResponse``, a ``dns.message`` parse error, ``OSError``.
        """
        family = dns.inet.af_for_address(address)
        transport, replies = await self._endpoint(family)
        host = _address_key(address)
        while True:
            query_id = dns.entropy.random_16()
            key = (host, port, query_id)
            if key not in replies.pending:
                break
        waiting: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        replies.pending[key] = waiting
        try:
            transport.sendto(question.query_wire(query_id), (address, port))
            try:
                async with asyncio.timeout(seconds):
                    wire = await waiting
            except TimeoutError:
                raise dns.exception.Timeout(timeout=seconds) from None
        finally:
            del replies.pending[key]
        try:
            response = dns.message.from_wire(wire, raise_on_truncation=True)
        except dns.message.Truncated:
            return await dns.asyncquery.tcp(
                question.query_message(), address, timeout=seconds, port=port
            )
        if not question.is_answered_by(response):
            raise dns.query.BadResponse
        return response
