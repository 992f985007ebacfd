"""Finding the processes a sandbox job started, by the job's own marks (never by "a new
child of the test process": the browser of the end-to-end tests starts helpers whenever it
likes, in the same process tree).

A job's process carries ``SANDBOX_JOB=<grader pid>.<random>`` in its environment. Candidate
code can exec a program with a fresh environment, but it cannot leave its pid namespace,
whose init (a bubblewrap process the candidate cannot replace) keeps the mark: so a process
counts as a job's if it is marked itself or lives in a pid namespace that holds a marked
process. The grader pid in the mark tells this test process's jobs from those of another
server or test run on the same machine.
"""

from __future__ import annotations

import os

from tests.helpers import wait_for
from webapp.grading.sandbox.linux import JOB_MARKER

MARK = f"{JOB_MARKER}=".encode()


def pids() -> list[str]:
    return [name for name in os.listdir("/proc") if name.isdigit()]


def read(pid: str, name: str) -> bytes:
    try:
        with open(f"/proc/{pid}/{name}", "rb") as handle:
            return handle.read()
    except OSError:  # gone, or not ours to read
        return b""


def cmdline(pid: str) -> bytes:
    return read(pid, "cmdline")


def alive(pid: str) -> bool:
    stat = read(pid, "stat")
    return bool(stat) and stat.rsplit(b")", 1)[1].split()[0] not in (b"Z", b"X")


def pid_namespace(pid: str) -> str:
    try:
        return os.readlink(f"/proc/{pid}/ns/pid")
    except OSError:
        return ""


def job_processes(grader: int | None = None) -> set[str]:
    """Live processes of the sandbox jobs that process ``grader`` started (default: this one),
    wherever they are on the machine."""
    mark = MARK + f"{os.getpid() if grader is None else grader}.".encode()
    marked_namespaces, marked, namespace_of = set(), set(), {}
    ours = pid_namespace("self")
    for pid in pids():
        namespace_of[pid] = pid_namespace(pid)
        if any(entry.startswith(mark) for entry in read(pid, "environ").split(b"\0")):
            marked.add(pid)
            if namespace_of[pid] not in ("", ours):
                marked_namespaces.add(namespace_of[pid])
    return {pid for pid, namespace in namespace_of.items()
            if (pid in marked or namespace in marked_namespaces) and alive(pid)}


def with_token(token: str) -> list[str]:
    """Live processes with ``token`` in their argv (hostile cases exec themselves with one)."""
    return [pid for pid in pids() if token.encode() in cmdline(pid) and alive(pid)]


def wait_until_gone(token: str, *, message: str, timeout: float = 10) -> None:
    """Return once no process carries the token (a killed pid namespace takes a moment to empty
    when the machine is loaded), failing with ``message`` after ``timeout`` seconds."""
    wait_for(lambda: not with_token(token), timeout=timeout, message=message)


def kill_with_token(token: str) -> None:
    for pid in with_token(token):
        try:
            os.kill(int(pid), 9)
        except OSError:
            pass
