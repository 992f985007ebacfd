"""Shared pieces of the benchmarks: a throwaway site, processes, statistics, machine facts."""

from __future__ import annotations

import os
import platform
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx2 as httpx
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

POSTGRES_ENV = "REHEARSE_BENCH_DATABASE_URL"
# BENCH_QUICK=1: a smoke run (fewer runs, shorter load) to check a suite end to end; its figures mean little.
QUICK = os.environ.get("BENCH_QUICK", "") == "1"


def knob(name: str, default: int, quick: int | None = None) -> int:
    """A benchmark setting: the environment variable ``name`` if set, else ``quick`` in quick mode, else ``default``."""
    value = os.environ.get(name, "")
    if value:
        return int(value)
    return quick if QUICK and quick is not None else default


@dataclass
class BenchSite:
    data_dir: Path
    env: dict[str, str]
    database_url: str

    def cli(self, *args: str, stdin: str = "") -> str:
        done = subprocess.run([sys.executable, "-m", "webapp.cli", *args], env=self.env, input=stdin,
                              capture_output=True, text=True, timeout=600)
        if done.returncode:
            raise RuntimeError(done.stderr)
        return done.stdout

    def start(self, *args: str, log: str) -> subprocess.Popen[bytes]:
        handle = (self.data_dir / log).open("ab")
        return subprocess.Popen([sys.executable, "-m", "webapp.cli", *args], env=self.env, stdout=handle,
                                stderr=subprocess.STDOUT)

    def session(self) -> Session:
        # No pool: the connection closes with the session (a pooled one left open would keep SQLite
        # from leaving WAL mode for a bulk load, and leak a connection per call).
        return Session(create_engine(self.database_url, poolclass=NullPool))


def make_site(*, database_url: str | None = None, **settings: str) -> BenchSite:
    """A set-up site (migrated, default bank, first admin); SQLite in a temp dir unless a URL is given."""
    data_dir = Path(tempfile.mkdtemp(prefix="rehearse-bench-")) / "instance"
    url = database_url or f"sqlite:///{data_dir / 'rehearse.db'}"
    env = {**os.environ, "REHEARSE_DATA_DIR": str(data_dir), "REHEARSE_SECRET_KEY": "bench-secret",
           "REHEARSE_DATABASE_URL": url, **{f"REHEARSE_{k.upper()}": v for k, v in settings.items()}}
    site = BenchSite(data_dir, env, url)
    site.cli("setup")
    return site


def postgres_available() -> bool:
    return bool(os.environ.get(POSTGRES_ENV))


def create_postgres_database(prefix: str) -> str:
    """A new, empty database on the server named by REHEARSE_BENCH_DATABASE_URL; drop it with drop_postgres_database."""
    base = os.environ[POSTGRES_ENV]
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    with create_engine(base, isolation_level="AUTOCOMMIT").connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    return base.rsplit("/", 1)[0] + f"/{name}"


def drop_postgres_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    with create_engine(os.environ[POSTGRES_ENV], isolation_level="AUTOCOMMIT").connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_healthy(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not become healthy")


def stop_server(server: subprocess.Popen[bytes]) -> None:
    server.terminate()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:  # uvicorn waits for stuck requests; don't wait for them
        server.kill()
        server.wait(timeout=30)


def process_tree(pid: int) -> list[int]:
    """``pid`` and its descendants (uvicorn's workers are children of its supervisor)."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*/children"):
            try:
                todo += [int(child) for child in task.read_text().split()]
            except OSError:  # the task ended meanwhile
                pass
    return found


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time used so far by these processes (all their threads)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    return total


def wait_idle(pid: int, *, timeout: float = 120, window: float = 0.3, busy: float = 0.1) -> None:
    """Wait until a server (and its workers) uses under ``busy`` of a CPU over ``window`` seconds:
    requests a load generator abandoned at the end of its run are still being served until then."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pids = process_tree(pid)
        before = cpu_seconds(pids)
        time.sleep(window)
        if cpu_seconds(pids) - before < busy * window:
            return
    raise RuntimeError(f"server {pid} still busy after {timeout:.0f} s")


def rss_mib(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    match = re.search(r"VmRSS:\s+(\d+) kB", status)
    assert match, f"no VmRSS in /proc/{pid}/status"
    return int(match.group(1)) / 1024


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]


def spread(values: list[float]) -> str:
    """min / median / max, the way every figure in docs/benchmarks.md is reported."""
    return f"{min(values):.1f} / {statistics.median(values):.1f} / {max(values):.1f}"


def machine() -> str:
    return (f"{platform.node()}: {os.cpu_count()} CPU, Python {platform.python_version()}, "
            f"{platform.system()} {platform.release()}")
