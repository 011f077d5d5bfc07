"""How many sequential DNS round trips does one audit cost? Prints audit time ÷ answer delay.

Starts its own BIND (tests/support/bind.py) with every answer held for a fixed delay by a relay
on loopback: the resolver at 127.0.0.10 and the domain's two authoritative servers at
127.0.0.11 / 127.0.0.12, all on one port. The audit should come out near 3 (resolver, NS
addresses, every record at every server at once). checkdmarc audits the same domain through the
same resolver and delay, for comparison. sts.test also publishes MTA-STS: its policy comes from
a local HTTPS host (no delay) after the resolver's answer for mta-sts.sts.test, beside the SPF
walk and stages 2-3, so it should cost no extra round trip. onprem.test's MX host lies outside
it, at a private address: the lookup of its addresses runs beside stages 2-3 too (source
own-server, no extra round trip). Figures only, no assertions.

    python bench/dns_audit.py [--delay 0.1] [--runs 5]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.server
import ssl
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.dnscheck.audit import audit_domain
from bot.dnscheck.evaluate import questions
from bot.dnscheck.model import Audit, DnsConfig
from bot.dnscheck.profile import MICROSOFT365
from tests.support.bind import BindServer
from tests.support.bind_fixtures import ZONES_DIR, load_zones
from tests.support.zones import make_zone, microsoft365_records

T = TypeVar("T")
DOMAIN = "bench.test"  # its name servers are inside it: their addresses come as glue
STS = "sts.test"  # as bench.test, with an MTA-STS policy to fetch
HOSTED = "hosted.test"  # name servers of a DNS host elsewhere: one more round trip for them
# MX outside the domain at an on-premises address: its A/AAAA run beside stages 2-3
ONPREM = "onprem.test"
RESOLVER, NS1, NS2 = "127.0.0.10", "127.0.0.11", "127.0.0.12"


def records(domain: str) -> list[str]:
    dashed = domain.replace(".", "-")
    dkim = [
        f"{s}._domainkey CNAME {s}-{dashed}._domainkey.contoso.onmicrosoft.com."
        for s in ("selector1", "selector2")
    ]
    return [*microsoft365_records(domain), *dkim, '_dmarc TXT "v=DMARC1; p=none"']


STS_RECORDS = ['_mta-sts TXT "v=STSv1; id=1"', "mta-sts A 127.0.0.1"]
POLICY = (
    b"version: STSv1\r\nmode: enforce\r\nmx: *.mail.protection.outlook.com\r\nmax_age: 86400\r\n"
)


@contextlib.contextmanager
def policy_host(workdir: str) -> Iterator[tuple[int, str]]:
    """https://mta-sts.sts.test/.well-known/mta-sts.txt on 127.0.0.1 (a trustme CA), in a thread:
    (port, CA file)."""
    import trustme

    ca = trustme.CA()
    ca_file = str(Path(workdir) / "ca.pem")
    ca.cert_pem.write_to_path(ca_file)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(f"mta-sts.{STS}").configure_cert(context)

    class Policy(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(POLICY)))
            self.end_headers()
            self.wfile.write(POLICY)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Policy)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], ca_file
    finally:
        server.shutdown()
        server.server_close()


def zones() -> dict[str, str]:
    outside = {"ns1.dnshost.test.": NS1, "ns2.dnshost.test.": NS2}
    served = {
        DOMAIN: make_zone(DOMAIN, records(DOMAIN), nameservers={"ns1": NS1, "ns2": NS2}),
        STS: make_zone(STS, [*records(STS), *STS_RECORDS], nameservers={"ns1": NS1, "ns2": NS2}),
        HOSTED: make_zone(HOSTED, records(HOSTED), nameservers=outside),
        "dnshost.test": make_zone("dnshost.test", nameservers={"ns1": NS1, "ns2": NS2}),
    }
    fixtures = load_zones(ZONES_DIR)
    # its SPF as bench.test's, so only the MX host's addresses differ from it
    served[ONPREM] = (
        fixtures[ONPREM]
        .replace("127.0.0.1", NS1)
        .replace("127.0.0.2", NS2)
        .replace("mx include:spf.customer-hosting.test", "include:spf.protection.outlook.com")
    )
    for origin in ("test", "outlook.com", "frontbridge.com", "customer-hosting.test"):
        served[origin] = fixtures[origin]
    return served


def timed(runs: int, once: Callable[[], T]) -> tuple[float, T]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        result = once()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def audit_sync(domain: str, config: DnsConfig) -> Audit:
    return asyncio.run(audit_domain(domain, config))


def run_checkdmarc(domain: str, port: int, timeout: float) -> object:
    import checkdmarc
    import dns.nameserver

    return checkdmarc.check_domains(
        [domain], nameservers=[dns.nameserver.Do53Nameserver(RESOLVER, port)], timeout=timeout
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--delay", type=float, default=0.1, help="seconds added to every answer")
    parser.add_argument("--runs", type=int, default=5, help="runs per tool (median is shown)")
    args = parser.parse_args(argv)
    served = zones()
    views = {RESOLVER: served, NS1: served, NS2: served}
    with (
        tempfile.TemporaryDirectory() as workdir,
        BindServer.start(workdir, views=views, delay=args.delay) as bind,
        policy_host(workdir) as (https_port, ca_file),
    ):
        config = DnsConfig(
            nameservers=((RESOLVER, bind.port),),
            timeout=max(2.0, 10 * args.delay),
            auth_port=bind.port,
            https_port=https_port,
            ca_bundle=ca_file,
        )
        print(f"delay per DNS answer: {args.delay * 1000:.0f} ms, median of {args.runs} runs")
        print(f"{'domain':<13} {'tool':<26} {'seconds':>8} {'÷ delay':>8}  verdicts")
        for domain in (DOMAIN, HOSTED, STS, ONPREM):
            seconds, audit = timed(args.runs, partial(audit_sync, domain, config))
            summary = audit.summary()
            sts = audit.record("mta-sts")
            if domain == STS and sts is not None:
                summary = {**summary, "mta-sts": f"{sts.verdict.value}: {sts.detail}"}
            if domain == ONPREM:
                summary = {**summary, "source": audit.source}
            row = f"{domain:<13} {'transition-bot audit':<26}"
            print(f"{row} {seconds:>8.3f} {seconds / args.delay:>8.1f}  {summary}")
            row = f"{domain:<13} {'checkdmarc.check_domains':<26}"
            try:
                seconds, _ = timed(
                    args.runs, partial(run_checkdmarc, domain, bind.port, config.timeout)
                )
            except Exception as exc:  # a comparison figure: report it and go on
                print(f"{row} failed: {type(exc).__name__}: {exc}")
            else:
                print(f"{row} {seconds:>8.3f} {seconds / args.delay:>8.1f}")
        print(
            f"The audit asks {len(questions('bench.test', MICROSOFT365))} questions of each "
            "authoritative server (the resolver the same, less ANY), all concurrently; "
            "÷ delay is the number of sequential round trips."
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
