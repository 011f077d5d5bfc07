"""A throwaway PostgreSQL cluster for the tests, started from the machine's own binaries.

pytest-postgresql's ``PostgreSQLExecutor`` runs ``pg_ctl`` (initdb, start, stop, status); this
module only finds the binaries and makes them run where the tests run: PostgreSQL refuses to
start as root, so under root (CI, containers) every ``pg_ctl`` call goes through ``runuser -u
postgres`` and the cluster's folder belongs to that user. The data lives in a fresh folder under
the system's temp dir, not under pytest's per-user basetemp, which is private to root.
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import stat
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import psycopg
from pytest_postgresql.executors import PostgreSQLExecutor

SERVER_USER = "postgres"  # the OS user Debian's packages create; used only when we are root
INSTALL_HINT = (
    "PostgreSQL's server binaries (pg_ctl, initdb) were not found: install them "
    "(apt-get install -y postgresql) or set TEST_DATABASE_URL to a server the tests may use"
)
# durability is worthless for a cluster that lives for one test run
FAST_OPTIONS = (
    "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200 "
    "-c listen_addresses=127.0.0.1"
)


class ClusterUnavailable(RuntimeError):
    pass


def find_pg_ctl() -> str:
    """``pg_ctl`` of the newest PostgreSQL on the machine (PATH first, then Debian's layout)."""
    on_path = shutil.which("pg_ctl")
    if on_path:
        return on_path

    def major(path: str) -> int:
        name = Path(path).parent.parent.name
        return int(name) if name.isdigit() else 0

    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=major)
    if not candidates:
        raise ClusterUnavailable(INSTALL_HINT)
    return candidates[-1]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_server_user(folder: Path, pg_ctl: str) -> str:
    """A pg_ctl that runs as the postgres OS user (we are root); returns its path."""
    if shutil.which("runuser") is None:
        raise ClusterUnavailable("running as root, and runuser (util-linux) is missing")
    wrapper = folder / "pg_ctl"
    wrapper.write_text(f'#!/bin/sh\nexec runuser -u {SERVER_USER} -- "{pg_ctl}" "$@"\n')
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    shutil.chown(folder, user=SERVER_USER)
    return str(wrapper)


def wait_until_ready(url: str, within: float = 120.0) -> None:
    """Until the server takes a query: its port opens (all the executor waits for) while it is
    still starting up and refusing connections."""
    deadline = time.monotonic() + within
    while True:
        try:
            with psycopg.connect(url, connect_timeout=5) as connection:
                connection.execute("SELECT 1")
            return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


@dataclass
class PostgresCluster:
    """One running cluster; ``stop()``/``start()`` again keep its data (outage tests)."""

    executor: PostgreSQLExecutor
    folder: Path
    port: int

    @property
    def url(self) -> str:
        """A libpq URL of the maintenance database (trust auth, user postgres)."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def stop(self) -> None:
        self.executor.stop()

    def start(self) -> None:
        self.executor.start()
        wait_until_ready(self.url)

    def postmaster_pid(self) -> int:
        return int((self.folder / "data" / "postmaster.pid").read_text().split()[0])

    @contextmanager
    def paused(self) -> Iterator[None]:
        """The server hangs: every one of its processes is stopped (SIGSTOP), the postmaster
        first so that it forks no backend meanwhile; its sockets still accept connections and
        never answer. Continued (SIGCONT) on leaving, however the block ends. Only ever this
        cluster's processes: the tests started it."""
        postmaster = self.postmaster_pid()
        stopped: list[int] = []
        try:
            os.kill(postmaster, signal.SIGSTOP)
            stopped.append(postmaster)
            for pid in _children(postmaster):
                os.kill(pid, signal.SIGSTOP)
                stopped.append(pid)
            yield
        finally:
            for pid in stopped:
                with suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGCONT)

    def destroy(self) -> None:
        try:
            if self.executor.running():
                self.executor.stop()
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)


def _children(parent: int) -> list[int]:
    """The pids whose parent is ``parent`` (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            # "pid (comm) state ppid ...": comm may hold spaces, so split after its ")"
            fields = (entry / "stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue  # ended meanwhile
        if int(fields[1]) == parent:
            found.append(int(entry.name))
    return found


def start_cluster() -> PostgresCluster:
    """initdb and start a cluster on a free loopback port; raises ClusterUnavailable."""
    pg_ctl = find_pg_ctl()
    folder = Path(tempfile.mkdtemp(prefix="transition-pg-"))
    folder.chmod(0o755)
    executable = _as_server_user(folder, pg_ctl) if os.geteuid() == 0 else pg_ctl
    port = _free_port()
    executor = PostgreSQLExecutor(
        executable=executable,
        host="127.0.0.1",
        port=port,
        datadir=str(folder / "data"),
        unixsocketdir=str(folder),
        logfile=str(folder / "postgresql.log"),
        startparams="-w",
        dbname="postgres",
        user="postgres",
        postgres_options=FAST_OPTIONS,
        timeout=120,
    )
    try:
        executor.start()
        wait_until_ready(f"postgresql://postgres@127.0.0.1:{port}/postgres")
    except Exception as exc:
        log = folder / "postgresql.log"
        tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
        shutil.rmtree(folder, ignore_errors=True)
        raise ClusterUnavailable(f"PostgreSQL did not start: {exc}\n{tail}") from exc
    return PostgresCluster(executor=executor, folder=folder, port=port)
