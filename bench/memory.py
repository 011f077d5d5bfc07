"""How much memory does one replica take while it watches N tenants?

Starts BIND with N generated domains (two authoritative servers on loopback, every record but
MX right), a SQLite file (or --database-url) holding N tenants started through the service, and
the fake Slack Web API in this process. Then one real replica: ``transition-bot serve`` as a
child process (HTTP server, scheduler, the watch), pointed at all three. It prints the child's
resident memory (VmRSS, and VmHWM, the peak) from /proc:

1. once it answers /healthz, before it has polled anything;
2. when every tenant has been polled once and what that first sweep announced is delivered;
3. after --settle more seconds of steady watching (every tenant due each --poll seconds).

Figures only, no assertions.

    python bench/memory.py [--tenants 10000] [--poll 60] [--settle 60] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp
from sqlalchemy import Select, func, select
from sqlalchemy.exc import OperationalError

from storage.database import Database
from storage.models import OutboxMessage, OutboxStatus, WatchObservation
from tests.support.bind import BindServer
from tests.support.fake_slack import FakeSlack
from tests.watch.tenants import domain_names, start_tenants, watched_zones

SERVERS = ("127.0.0.1", "127.0.0.2")
SIGNING_SECRET = "bench-signing-secret-0123456789abcdef"


def memory_mb(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) of a process, in MB."""
    fields = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
    )

    def mb(name: str) -> float:
        return int(fields[name].split()[0]) / 1024  # "123456 kB"

    return mb("VmRSS"), mb("VmHWM")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def count(db: Database, query: Select[tuple[int]], busy: int = 0) -> int:
    """``busy`` while the replica holds SQLite's write lock past the busy timeout (a loaded
    machine): the loop asks again."""
    try:
        async with db.uow() as uow:
            return int(await uow.session.scalar(query) or 0)
    except OperationalError:
        return busy


async def healthy(port: int) -> bool:
    try:
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"http://127.0.0.1:{port}/healthz") as response,
        ):
            return response.status == 200
    except aiohttp.ClientError:
        return False


def report(label: str, pid: int) -> None:
    rss, peak = memory_mb(pid)
    print(f"   {label:46s} RSS {rss:7.1f} MB   peak {peak:7.1f} MB")


async def main(args: argparse.Namespace) -> None:
    domains = domain_names(args.tenants, "m")
    workdir = Path(tempfile.mkdtemp(prefix="memory-bench-"))
    print(f"starting BIND with {len(domains)} domains x {len(SERVERS)} servers ...")
    zones = watched_zones(domains)
    with BindServer.start(workdir / "bind", views={a: zones for a in SERVERS}, timeout=300) as bind:
        url = args.database_url or f"sqlite+aiosqlite:///{workdir / 'bench.db'}"
        db = Database(url)
        await db.upgrade()
        started = time.perf_counter()
        await start_tenants(db.uow, domains)
        print(f"{len(domains)} tenants started in {time.perf_counter() - started:.0f} s")

        fake = FakeSlack()
        await fake.start()
        port = free_port()
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "TRANSITION_"))},
            "SLACK_BOT_TOKEN": fake.token,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": fake.api_url,
            "DATABASE_URL": url,
            "PORT": str(port),
            "TRANSITION_NAMESERVERS": bind.nameserver_arg,
            "TRANSITION_DNS_PORT": str(bind.port),
            "TRANSITION_DNS_TIMEOUT": "2",
            "TRANSITION_POLL_SECONDS": str(args.poll),
            "TRANSITION_FAST_POLL_SECONDS": str(args.poll),
            "LOG_LEVEL": "WARNING",
        }
        log = (workdir / "serve.log").open("wb")
        child = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot.cli",
            "serve",
            "--host",
            "127.0.0.1",
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            print(f"\none replica (transition-bot serve, pid {child.pid}) watching them:")
            while not await healthy(port):
                if child.returncode is not None:
                    raise SystemExit(f"serve exited: see {workdir / 'serve.log'}")
                await asyncio.sleep(0.2)
            report("serving, nothing polled yet", child.pid)

            started = time.perf_counter()
            observed = select(func.count()).select_from(WatchObservation)
            pending = (
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.status == OutboxStatus.PENDING)
            )
            # Every tenant polled once and whatever it announced delivered (how many
            # announcements a sweep makes depends on what the zones lack).
            while True:
                if await count(db, observed) >= len(domains) and not await count(db, pending, -1):
                    break
                await asyncio.sleep(1)
            took = time.perf_counter() - started
            report(f"first sweep + announcements done ({took:.0f} s)", child.pid)
            samples = []
            deadline = time.perf_counter() + args.settle
            while time.perf_counter() < deadline:
                await asyncio.sleep(1)
                samples.append(memory_mb(child.pid)[0])
            report(f"after {args.settle:.0f} s more (polls every {args.poll:.0f} s)", child.pid)
            print(f"   {'highest RSS sampled while settling':46s}     {max(samples):7.1f} MB")
            print(f"   goal: at most 250 MB for 10,000 tenants (this run: {len(domains)})")
        finally:
            child.terminate()
            await child.wait()
            await fake.close()
            await db.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenants", type=int, default=10_000)
    parser.add_argument("--poll", type=float, default=60.0, help="poll interval, seconds")
    parser.add_argument("--settle", type=float, default=60.0, help="seconds watched after")
    parser.add_argument("--database-url", default="", help="default: a SQLite file in /tmp")
    asyncio.run(main(parser.parse_args()))
