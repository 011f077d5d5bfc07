"""What does it cost the bot to answer a slash command, beside an empty Bolt app?

Two servers, one after the other, each in its own process on 127.0.0.1 (so the load generator,
in this process, does not share their event loop):

- ``empty``: a Bolt ``AsyncApp`` on aiohttp (``app.web_app()``) with one ``/transition``
  listener that acks a text: Bolt's own cost (signature check, single-workspace authorization,
  dispatch, the ack) and aiohttp's;
- ``bot``: the bot's real server (``bot.app.server.init``: the HTTP guard, every listener and
  middleware, logs and metrics) on a SQLite file, its Web API the fake Slack in its process.

Each gets ``/transition help`` signed as Slack signs it: first one request at a time (median
ms), then ``--concurrency`` at once for ``--seconds`` (requests/s, and the server process's
CPU time per request). Each ratio is the bot's figure against the empty app's, as throughput:
requests/s over the empty app's, and the empty app's CPU per request over the bot's (on a
machine shared with other work the second moves less). Figures only, no assertions.

    python bench/ack.py [--concurrency 50] [--seconds 5] [--rounds 1] [--profile bot.html]

``--profile FILE`` runs the bot's server under pyinstrument and writes its report there (HTML,
or text when FILE ends in .txt).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp
from aiohttp import web

SIGNING_SECRET = "bench-signing-secret-0123456789abcdef"
PATH = "/slack/events"


# --- the servers (child processes) -------------------------------------------------------------


async def _empty_app(api_url: str, token: str) -> web.Application:
    from slack_bolt.async_app import AsyncAck, AsyncApp

    app = AsyncApp(
        signing_secret=SIGNING_SECRET,
        token=token,
        process_before_response=False,
        logger=logging.getLogger("empty"),
    )
    app.client.base_url = api_url

    @app.command("/transition")
    async def usage(ack: AsyncAck) -> None:
        await ack(text="Usage: /transition help")

    return app.web_app(path=PATH)


async def _bot_app(api_url: str, token: str, workdir: str) -> web.Application:
    import dataclasses

    from bot.app.server import init
    from bot.dnscheck.model import DnsConfig
    from bot.ops.config import load_settings
    from bot.ops.logs import configure_logging

    settings = load_settings(
        {
            "SLACK_BOT_TOKEN": token,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": api_url,
            "DATABASE_URL": f"sqlite+aiosqlite:///{workdir}/bench.db",
            # The sweeps wait 300 s: none runs while the bench does.
            "TRANSITION_POLL_SECONDS": "300",
            "TRANSITION_FAST_POLL_SECONDS": "300",
        },
        dotenv=False,
    )
    settings = dataclasses.replace(
        settings, dns=DnsConfig(nameservers=(("127.0.0.1", 9),), timeout=0.2, auth_port=9)
    )
    # As in production: one log line per request (to stderr, which the bench keeps in a file).
    configure_logging(settings.log_format, settings.log_level)
    return init(settings)


async def serve(kind: str) -> None:
    """Start the fake Web API and the server; print the port; run until stdin closes."""
    from tests.support.fake_slack import FakeSlack

    fake = FakeSlack()
    await fake.start()
    with tempfile.TemporaryDirectory() as workdir:
        if kind == "empty":
            app = await _empty_app(fake.api_url, fake.token)
        else:
            app = await _bot_app(fake.api_url, fake.token, workdir)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        print(runner.addresses[0][1], flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
        await runner.cleanup()
    await fake.close()


# --- the load (this process) -------------------------------------------------------------------


def signed_help() -> tuple[bytes, dict[str, str]]:
    from slack_sdk.signature import SignatureVerifier

    body = urlencode(
        {
            "token": "deprecated",
            "team_id": "T0TEST",
            "team_domain": "bench",
            "channel_id": "C0BENCH",
            "channel_name": "cutover",
            "user_id": "U0BENCH",
            "user_name": "bench",
            "command": "/transition",
            "text": "help",
            "api_app_id": "A0TRANSITION",
            "is_enterprise_install": "false",
            "response_url": "http://127.0.0.1:9/response",
            "trigger_id": "1.bench",
        }
    )
    timestamp = str(int(time.time()))
    signature = SignatureVerifier(SIGNING_SECRET).generate_signature(timestamp=timestamp, body=body)
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": signature or "",
    }
    return body.encode(), headers


@dataclass(frozen=True)
class Figures:
    alone_ms: float
    per_second: float
    cpu_ms: float  # the server process's CPU time per request under load
    errors: int


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def measure(url: str, concurrency: int, seconds: float, pid: int) -> Figures:
    body, headers = signed_help()
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def one() -> bool:
            async with session.post(url, data=body, headers=headers) as response:
                answer = await response.read()
                return response.status == 200 and b"/transition" in answer

        for _ in range(50):  # warm up: connections, the first auth.test, caches
            await one()
        alone = []
        for _ in range(100):
            started = time.perf_counter()
            await one()
            alone.append(time.perf_counter() - started)

        done = errors = 0
        deadline = time.perf_counter() + seconds

        async def worker() -> None:
            nonlocal done, errors
            while time.perf_counter() < deadline:
                if await one():
                    done += 1
                else:
                    errors += 1

        started, cpu = time.perf_counter(), cpu_seconds(pid)
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed, cpu = time.perf_counter() - started, cpu_seconds(pid) - cpu
    return Figures(statistics.median(alone) * 1000, done / elapsed, cpu * 1000 / done, errors)


async def run_against(kind: str, args: argparse.Namespace) -> Figures:
    command = [sys.executable, __file__, "--serve", kind]
    if kind == "bot" and args.profile:
        renderer = "text" if args.profile.endswith(".txt") else "html"
        command[1:1] = ["-m", "pyinstrument", "-r", renderer, "-o", args.profile]
    with tempfile.TemporaryFile("w+") as log:
        child = await asyncio.create_subprocess_exec(
            *command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log
        )
        assert child.stdout is not None and child.stdin is not None
        try:
            line = (await child.stdout.readline()).decode()
            if not line.strip().isdigit():
                log.seek(0)
                raise SystemExit(f"the {kind} server did not start:\n{log.read()[-3000:]}")
            url = f"http://127.0.0.1:{int(line)}{PATH}"
            return await measure(url, args.concurrency, args.seconds, child.pid)
        finally:
            child.stdin.close()
            await asyncio.wait_for(child.wait(), 30)


async def main(args: argparse.Namespace) -> None:
    print(
        f"/transition help, signed; one at a time, then {args.concurrency} concurrent for "
        f"{args.seconds:.0f} s; each server in its own process, {os.cpu_count()} cores"
    )
    print(
        f"{'round':>5}  {'server':<22}{'alone':>9}{'requests/s':>12}{'ratio':>7}"
        f"{'server CPU/request':>20}{'ratio':>7}{'errors':>8}"
    )
    ratios: list[tuple[float, float]] = []
    for round_ in range(1, args.rounds + 1):
        empty = await run_against("empty", args)
        bot = await run_against("bot", args)
        ratios.append((bot.per_second / empty.per_second, empty.cpu_ms / bot.cpu_ms))
        for name, figures in (("empty Bolt AsyncApp", empty), ("transition-bot", bot)):
            ratio = figures.per_second / empty.per_second
            # the empty app's CPU per request over this one's: the throughput the CPU allows
            cpu_ratio = empty.cpu_ms / figures.cpu_ms
            print(
                f"{round_:>5}  {name:<22}{figures.alone_ms:>7.1f}ms{figures.per_second:>12.0f}"
                f"{ratio:>6.2f}x{figures.cpu_ms:>18.2f}ms{cpu_ratio:>6.2f}x{figures.errors:>8}"
            )
        print(f"       (load average {os.getloadavg()[0]:.1f})")
    if len(ratios) > 1:
        throughput = sorted(r[0] for r in ratios)
        cpu = sorted(r[1] for r in ratios)
        print(
            f"{len(ratios)} rounds, transition-bot / empty app: throughput median "
            f"{statistics.median(throughput):.2f}x (lowest {throughput[0]:.2f}x), CPU per request "
            f"median {statistics.median(cpu):.2f}x (lowest {cpu[0]:.2f}x)"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--profile", help="pyinstrument HTML report of the bot's server")
    parser.add_argument("--serve", choices=("empty", "bot"), help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.serve:
        asyncio.run(serve(arguments.serve))
    else:
        asyncio.run(main(arguments))
