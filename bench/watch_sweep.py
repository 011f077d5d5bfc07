"""How fast does one replica sweep its watched domains, and how soon is a DNS change announced?

Starts BIND (tests/support/bind.py) with N generated domains served by two authoritative
servers (127.0.0.1 and 127.0.0.2, one port), a database (a SQLite file, or --database-url), and
the fake Slack Web API in this process. Then:

1. the watch's poll job sweeps every tenant once (audit of every record at every authoritative
   server + diff + storage), twice: the first sweep stores N new observations, the second finds
   nothing new (the steady state). Prints domains/s and CPU seconds per domain (this process;
   BIND's own CPU is not counted, for either side).
2. the baseline: a plain loop over ``dns.asyncresolver`` asking the same questions as the audit
   (resolver NS and every record, name server addresses unless the NS answer has their glue,
   the SPF walk's questions (the includes' TXT, the a/mx terms' records), every record at every
   server, ANY at each CNAME name through dns.asyncquery as the resolver refuses it), same
   concurrency, no evaluation, no storage.
3. the watch running as in production (the scheduler's jobs, bot.jobs.watch) with a few tenants
   approved for MX, so they poll at the fast interval: change MX with DNS UPDATE and time until
   the "MX now points to Microsoft 365" message reaches the fake Slack.

Figures only, no assertions.

    python bench/watch_sweep.py [--domains 2000] [--concurrency 64] [--fast 5] [--changes 5]
                                [--profile first-sweep.html]

``--changes 0`` skips part 3; ``--profile FILE`` writes a pyinstrument report of the first sweep
(HTML, or text when FILE ends in .txt).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import dns.asyncquery
import dns.asyncresolver
import dns.exception
import dns.message
import dns.rdatatype
import dns.resolver

from bot.app.runtime import Runtime
from bot.core.approvals import Decision
from bot.core.runbook import StepId
from bot.dnscheck import spf
from bot.dnscheck.evaluate import questions
from bot.dnscheck.model import DnsConfig
from bot.dnscheck.profile import MICROSOFT365
from bot.jobs.scheduler import new_scheduler
from bot.jobs.watch import build_watch, poll_tick_seconds
from bot.jobs.watch import register as register_watch
from bot.ops.config import load_settings
from bot.services.approvals import request_approval, vote
from bot.services.common import Caller
from bot.services.steps import complete_step
from bot.watch.poller import Poller, WatchOptions
from storage.database import Database
from tests.support.bind import BindServer
from tests.support.fake_slack import FakeSlack
from tests.watch.tenants import (
    APPROVERS,
    REQUESTER,
    TEAM,
    channel_for,
    domain_names,
    m365_mx,
    start_tenants,
    watched_zones,
)

SERVERS = ("127.0.0.1", "127.0.0.2")
MOVED = "MX now points to Microsoft 365"


def per_second(count: int, seconds: float) -> str:
    return f"{count / seconds:8.1f} domains/s"


async def sweep(poller: Poller, count: int, profile: str = "") -> tuple[float, float, int]:
    profiler = None
    if profile:
        from pyinstrument import Profiler

        profiler = Profiler(async_mode="disabled")
        profiler.start()
    wall, cpu = time.perf_counter(), time.process_time()
    polled = 0
    while polled < count:
        results = await poller.run_once()
        if not results:
            break
        polled += len(results)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    if profiler is not None:
        profiler.stop()
        write_report(profiler, profile)
    return wall, cpu, polled


def write_report(profiler: Any, path: str) -> None:
    report = profiler.output_text() if path.endswith(".txt") else profiler.output_html()
    Path(path).write_text(report)


async def baseline(domains: list[str], config: DnsConfig, concurrency: int) -> tuple[float, float]:
    """The same questions through dns.asyncresolver, nothing else: the resolver's NS and every
    record; the name servers' addresses from the NS answer's glue (looked up when missing); the
    TXT records of the SPF includes (the audit counts SPF lookups); every record at every
    name server."""
    port = config.auth_port

    def resolver_for(address: str) -> dns.asyncresolver.Resolver:
        resolver = dns.asyncresolver.Resolver(configure=False)
        resolver.nameservers = [address]
        resolver.port = port
        resolver.timeout = resolver.lifetime = config.timeout
        resolver.cache = None
        return resolver

    front = resolver_for(config.nameservers[0][0])
    direct = {a: resolver_for(a) for a in SERVERS}
    limit = asyncio.Semaphore(concurrency)

    async def ask(
        resolver: dns.asyncresolver.Resolver, name: str, rdtype: str
    ) -> dns.resolver.Answer | None:
        try:
            return await resolver.resolve(name, rdtype, raise_on_no_answer=False)
        except (dns.exception.DNSException, dns.resolver.NXDOMAIN):
            return None

    async def ask_any(server: str, name: str) -> dns.message.Message | None:
        """ANY at a CNAME's name: dnspython's resolver refuses meta-queries (NoMetaqueries, no
        packet sent, for both sides), so the audit asks the servers directly, and so does this."""
        try:
            query = dns.message.make_query(name, "ANY")
            reply, _ = await dns.asyncquery.udp_with_fallback(
                query, server, timeout=config.timeout, port=port
            )
        except (dns.exception.DNSException, OSError):
            return None
        return reply

    def texts(answer: dns.resolver.Answer | None) -> list[str]:
        if answer is None or answer.rrset is None:
            return []
        return [b"".join(r.strings).decode() for r in answer.rrset]

    async def lookup(name: str, rdtype: str) -> spf.Answer:
        answer = await ask(front, name, rdtype)
        if answer is None:
            return spf.Answer(failure="no answer")
        if rdtype == "TXT":
            return spf.Answer(tuple(texts(answer)))
        return spf.Answer(tuple(r.to_text() for r in answer.rrset or []))

    async def spf_includes(domain: str, txt: dns.resolver.Answer | None) -> None:
        records = spf.spf_records(texts(txt))
        if len(records) == 1:
            await spf.check(records[0], domain, lookup, limit=MICROSOFT365.spf_lookup_limit)

    async def servers_of(ns: dns.resolver.Answer | None) -> list[str]:
        if ns is None or ns.rrset is None:
            return []
        names = [r.target for r in ns.rrset]
        glue = {
            g.name: [r.address for r in g]
            for g in ns.response.additional
            if g.rdtype == dns.rdatatype.A
        }
        missing = [n for n in names if n not in glue]
        looked_up = await asyncio.gather(*(ask(front, n.to_text(), "A") for n in missing))
        for name, answer in zip(missing, looked_up, strict=True):
            glue[name] = [r.address for r in answer.rrset or []] if answer is not None else []
        return [address for n in names for address in glue[n]]

    async def one(domain: str) -> None:
        asked = questions(domain, MICROSOFT365)
        async with limit:
            ns, *view = await asyncio.gather(
                ask(front, domain, "NS"), *(ask(front, q.name, q.type) for q in asked)
            )
            txt = next(a for q, a in zip(asked, view, strict=True) if q.type == "TXT")
            includes = asyncio.create_task(spf_includes(domain, txt))
            servers = await servers_of(ns)
            await asyncio.gather(
                *(ask(direct.get(s, front), q.name, q.type) for q in asked for s in servers),
                *(ask_any(s, q.name) for q in asked if q.type == "ANY" for s in servers),
            )
            await includes

    wall, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(one(d) for d in domains))
    return time.perf_counter() - wall, time.process_time() - cpu


async def approve_mx(db: Database, domain: str, tenant_id: int) -> None:
    caller = Caller(TEAM, REQUESTER, channel_for(domain))
    await complete_step(db.uow(), caller, StepId.VERIFY_DATA.value, "bench")
    request = await request_approval(db.uow(), caller, "mx")
    approver = Caller(TEAM, APPROVERS[0], channel_for(domain))
    await vote(db.uow(), approver, tenant_id, request.id, Decision.APPROVE)


async def change_to_announcement(
    args: argparse.Namespace, bind: BindServer, db: Database, ids: dict[str, int], url: str
) -> list[float]:
    fake = FakeSlack()
    await fake.start()
    settings = dataclasses.replace(
        load_settings(
            {
                "SLACK_BOT_TOKEN": fake.token,
                "SLACK_API_URL": fake.api_url,
                "DATABASE_URL": url,
                "TRANSITION_POLL_SECONDS": "3600",
                "TRANSITION_FAST_POLL_SECONDS": str(args.fast),
            },
            dotenv=False,
        ),
        dns=bind.dns_config(timeout=2.0),
    )
    watched = list(ids)[: args.changes]
    for domain in watched:
        await approve_mx(db, domain, ids[domain])
    runtime = Runtime(settings=settings, database=db)
    # The sweeps above left one records-ready announcement per tenant: deliver them first, as
    # a running bot would have, so the changes below do not queue behind them.
    drain = build_watch(runtime, "bench-drain").sender
    started, sent = time.perf_counter(), 0
    while delivered := await drain.run_once():
        sent += delivered
    took = time.perf_counter() - started
    print(f"   (first delivered the {sent} announcements of the sweeps: {sent / took:.0f}/s)")
    scheduler = new_scheduler()
    register_watch(scheduler, runtime)
    scheduler.apscheduler.start()
    latencies: list[float] = []
    try:
        await asyncio.sleep(args.fast + 1)  # the approvals seen: these tenants poll fast now
        for domain in watched:
            await asyncio.sleep(args.fast / 3)  # not in step with the poll ticks
            started = time.perf_counter()
            await bind.set_records(domain, "@", "MX", m365_mx(domain))
            channel = channel_for(domain)
            try:
                await fake.wait_for(
                    "chat.postMessage",
                    lambda c, ch=channel: c.params.get("channel") == ch and MOVED in c.text,
                    timeout=args.fast * 3 + 30,
                )
            except AssertionError:
                print(f"   {domain}: no announcement within {args.fast * 3 + 30:.0f} s")
                continue
            latencies.append(time.perf_counter() - started)
    finally:
        scheduler.apscheduler.shutdown(wait=False)
        await fake.close()
    print(f"   (poll tick {poll_tick_seconds(settings):.2f} s, fast interval {args.fast:.0f} s)")
    return latencies


# Microsoft's SPF include, which every domain's SPF walk follows, served as the tests do
OUTLOOK_ZONE = Path(__file__).resolve().parent.parent / "tests/zones/outlook.com.zone"


async def main(args: argparse.Namespace) -> None:
    domains = domain_names(args.domains, "s")
    zones = {"outlook.com": OUTLOOK_ZONE.read_text(), **watched_zones(domains)}
    workdir = Path(tempfile.mkdtemp(prefix="watch-sweep-"))
    print(f"starting BIND with {len(domains)} domains x {len(SERVERS)} servers ...")
    with BindServer.start(workdir / "bind", views={a: zones for a in SERVERS}, timeout=120) as bind:
        url = args.database_url or f"sqlite+aiosqlite:///{workdir / 'bench.db'}"
        db = Database(url)
        await db.upgrade()
        started = time.perf_counter()
        ids = await start_tenants(db.uow, domains)
        took = time.perf_counter() - started
        print(f"{len(ids)} tenants started through the service in {took:.1f} s ({db.url[:20]}…)")

        config = bind.dns_config(timeout=2.0)
        options = WatchOptions(
            "bench",
            poll_seconds=0.000001,
            fast_poll_seconds=0.000001,
            lease_seconds=600,
            batch=len(domains),
            concurrency=args.concurrency,
        )
        # the second sweep leaves every tenant due in an hour: the steady state for part 3
        settle = dataclasses.replace(options, poll_seconds=3600)
        print("\n1. the watch's sweep (audit every record at every server + diff + store)")
        sweeps: list[tuple[float, float, int]] = []
        for label, opts, profile in (
            ("first sweep (stores everything)", options, args.profile),
            ("second sweep (nothing new)", settle, ""),
        ):
            poller = Poller(db.sessionmaker, config, opts)
            wall, cpu, polled = await sweep(poller, len(domains), profile)
            sweeps.append((wall, cpu, polled))
            print(
                f"   {label:34s} {polled} domains in {wall:6.2f} s  {per_second(polled, wall)}"
                f"  {cpu / polled * 1000:6.2f} ms CPU/domain"
            )

        print("\n2. baseline: a plain dns.asyncresolver loop over the same questions")
        wall, cpu = await baseline(domains, config, args.concurrency)
        print(
            f"   {'plain loop':34s} {len(domains)} domains in {wall:6.2f} s  "
            f"{per_second(len(domains), wall)}  {cpu / len(domains) * 1000:6.2f} ms CPU/domain"
        )
        # On a shared machine the rates follow the load; CPU per domain much less so.
        first_wall, first_cpu, first_polled = sweeps[0]
        rate = (first_polled / first_wall) / (len(domains) / wall)
        cost = (first_cpu / first_polled) / (cpu / len(domains))
        print(
            f"   first sweep / plain loop: {rate:.2f}x the rate, {cost:.2f}x the CPU per domain"
            f"  (load average {os.getloadavg()[0]:.1f})"
        )
        if args.changes <= 0:
            await db.dispose()
            return

        print(
            f"\n3. DNS change -> announcement, {args.changes} changes, fast interval {args.fast} s"
        )
        latencies = await change_to_announcement(args, bind, db, ids, url)
        if latencies:
            print(
                "   latency s: "
                + ", ".join(f"{x:.2f}" for x in latencies)
                + f"   median {statistics.median(latencies):.2f}, max {max(latencies):.2f}"
                + f"   (target < fast + 1 = {args.fast + 1:.0f})"
            )
        await db.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--domains", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--fast", type=float, default=5.0, help="fast poll interval, seconds")
    parser.add_argument("--changes", type=int, default=5)
    parser.add_argument("--database-url", default="", help="default: a SQLite file in /tmp")
    parser.add_argument(
        "--profile", default="", help="pyinstrument report of the first sweep (HTML, or .txt)"
    )
    asyncio.run(main(parser.parse_args()))
