"""Shared pieces of the benchmarks: a throwaway site, processes, statistics, machine facts."""

from __future__ import annotations

import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx2 as httpx
from sqlalchemy import create_engine
from sqlalchemy.orm import Session


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
        return Session(create_engine(self.database_url))


def make_site(**settings: str) -> BenchSite:
    data_dir = Path(tempfile.mkdtemp(prefix="rehearse-bench-")) / "instance"
    env = {**os.environ, "REHEARSE_DATA_DIR": str(data_dir), "REHEARSE_SECRET_KEY": "bench-secret",
           **{f"REHEARSE_{k.upper()}": v for k, v in settings.items()}}
    env.pop("REHEARSE_DATABASE_URL", None)
    site = BenchSite(data_dir, env, f"sqlite:///{data_dir / 'rehearse.db'}")
    site.cli("setup")
    return site


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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
