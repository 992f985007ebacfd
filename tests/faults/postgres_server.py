"""A throwaway PostgreSQL server of our own (the local server's binaries, a data dir in /tmp, a free
port), so a test can stop and start it without disturbing the databases anyone else is using."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tests.grading.processes import free_port


def server_binaries() -> Path | None:
    """The directory holding initdb and pg_ctl, or None when this machine has no PostgreSQL server."""
    candidates = [os.path.dirname(shutil.which("initdb") or "")]
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    for candidate in candidates:
        if candidate and (Path(candidate) / "initdb").exists() and (Path(candidate) / "pg_ctl").exists():
            return Path(candidate)
    return None


@dataclass
class PostgresServer:
    bin_dir: Path
    data_dir: Path
    port: int
    as_user: list[str]  # runuser prefix when we are root (PostgreSQL refuses to run as root)

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        done = subprocess.run([*self.as_user, *args], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stdout + done.stderr

    def start(self) -> None:
        options = (f"-c listen_addresses=127.0.0.1 -c port={self.port} -c unix_socket_directories='' "
                   "-c fsync=off -c max_connections=60")
        self._run(str(self.bin_dir / "pg_ctl"), "start", "-w", "-t", "30", "-D", str(self.data_dir),
                  "-l", str(self.data_dir / "server.log"), "-o", options)

    def stop(self) -> None:
        """A fast shutdown, as `pg_ctlcluster … stop` does: sessions are ended, transactions rolled back."""
        self._run(str(self.bin_dir / "pg_ctl"), "stop", "-w", "-t", "30", "-m", "fast", "-D", str(self.data_dir))

    def running(self) -> bool:
        done = subprocess.run([*self.as_user, str(self.bin_dir / "pg_ctl"), "status", "-D", str(self.data_dir)],
                              capture_output=True, timeout=30)
        return done.returncode == 0

    def remove(self) -> None:
        if self.running():
            self.stop()
        shutil.rmtree(self.data_dir.parent, ignore_errors=True)


def create_server(bin_dir: Path) -> PostgresServer:
    """initdb a new cluster (trust authentication, user ``postgres``) and start it."""
    parent = Path(tempfile.mkdtemp(prefix="rehearse-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:
        owner = pwd.getpwnam("postgres")
        os.chown(parent, owner.pw_uid, owner.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    data_dir = parent / "data"
    server = PostgresServer(bin_dir=bin_dir, data_dir=data_dir, port=free_port(), as_user=as_user)
    server._run(str(bin_dir / "initdb"), "-D", str(data_dir), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                "--no-sync")
    server.start()
    return server
