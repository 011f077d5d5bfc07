"""`transition-bot` run as README says: the installed console script, a process of its own, with
only the settings a test gives it (no inherited Slack or bot setting, no .env).

Servers are waited for on a condition (``/healthz`` answers) and stopped with SIGTERM; their
output goes to a log file shown when something fails.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from collections.abc import Mapping
from pathlib import Path

import aiohttp

from bot.ops.config import SETTINGS
from tests.support.waiting import eventually

# pip install puts the console script beside the interpreter of the environment.
BIN = Path(sys.executable).with_name("transition-bot")
# Guards against a hang, not speed checks: generous for a loaded one-core machine, and
# within pytest's 120 s per test.
START_SECONDS = 90.0
STOP_SECONDS = 30.0  # serve's shutdown budget is 10 s
RUN_SECONDS = 100.0  # a whole command, e.g. a console session of many lines


def command(*args: str) -> list[str]:
    if not BIN.exists():
        raise AssertionError(f"{BIN} is missing: install the project (pip install -e .)")
    return [str(BIN), *args]


def bot_env(**settings: str) -> dict[str, str]:
    """This environment without any of the bot's settings, plus ``settings``."""
    env = {k: v for k, v in os.environ.items() if k not in SETTINGS}
    env.update(settings)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Server:
    """A long-running mode (``serve``, ``socket``) started in ``cwd``."""

    def __init__(self, process: asyncio.subprocess.Process, log: Path, port: int) -> None:
        self.process = process
        self.log = log
        self.port = port
        self.base_url = f"http://127.0.0.1:{port}"

    @classmethod
    async def start(cls, args: list[str], env: Mapping[str, str], cwd: Path) -> Server:
        log = cwd / f"{args[0]}.log"
        port = int(env["PORT"])
        with log.open("wb") as out:
            process = await asyncio.create_subprocess_exec(
                *command(*args, "--host", "127.0.0.1"),
                env=dict(env),
                cwd=cwd,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=out,
                stderr=asyncio.subprocess.STDOUT,
            )
        server = cls(process, log, port)
        await eventually(
            server.healthy,
            f"{args[0]} to serve /healthz",
            within=START_SECONDS,
            context=server.tail,
        )
        return server

    def tail(self) -> str:
        return "--- log ---\n" + self.log.read_text(errors="replace")[-4000:]

    async def healthy(self) -> bool:
        if self.process.returncode is not None:
            raise AssertionError(f"exited with {self.process.returncode}\n{self.tail()}")
        try:
            async with (
                aiohttp.ClientSession() as http,
                http.get(f"{self.base_url}/healthz", timeout=aiohttp.ClientTimeout(5)) as r,
            ):
                return r.status == 200 and (await r.json()) == {"ok": True}
        except aiohttp.ClientError:
            return False

    async def stop(self) -> int:
        """SIGTERM, as Kubernetes and docker send it; the exit status."""
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return await asyncio.wait_for(self.process.wait(), STOP_SECONDS)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()
            why = f"still running {STOP_SECONDS:.0f}s after SIGTERM\n{self.tail()}"
            raise AssertionError(why) from None


async def run(
    *args: str, env: Mapping[str, str], cwd: Path, stdin: str = ""
) -> tuple[int, str, str]:
    """A command that does its job and exits: (status, stdout, stderr)."""
    process = await asyncio.create_subprocess_exec(
        *command(*args),
        env=dict(env),
        cwd=cwd,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(stdin.encode()), RUN_SECONDS)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()
