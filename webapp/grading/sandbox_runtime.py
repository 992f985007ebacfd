"""The low-level half of the sandbox: supervising a child (limits, output caps, kills) and
the Linux plumbing around it (memfds, making the interpreter reachable for an unprivileged
uid). What is isolated, and why, is explained in webapp/grading/sandbox.py.
"""

from __future__ import annotations

import ctypes
import json
import os
import secrets
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

SANDBOX_UID = 65534  # nobody
# Every process of a job carries JOB_MARKER=<grader pid>.<random> in its environment, and so does
# the init of its pid namespace (which candidate code cannot replace), so tools and tests find a
# job's processes, and the grader process that owns them, by their own mark rather than by
# guessing from the process tree.
JOB_MARKER = "SANDBOX_JOB"
TRUNCATED = "\n… [output truncated]"
REPORT_LIMIT = 1 << 20
KILL_GRACE = 3.0  # seconds for a killed sandbox to be gone before the process group is killed too
DRAIN_GRACE = 0.2  # seconds to collect output still in flight after the main process exited
# Never hide these behind a tmpfs (see reachability_plan).
VITAL = {"/", "/usr", "/etc", "/proc", "/dev", "/sys", "/tmp", "/var", "/bin", "/lib", "/lib64"}


class SandboxUnavailable(RuntimeError):
    """The requested isolation cannot be provided on this machine."""


@dataclass(frozen=True)
class Limits:
    cpu_seconds: float = 5
    wall_seconds: float = 10
    memory_mb: int = 512
    processes: int = 64
    file_size_mb: int = 1
    open_files: int = 64
    output_bytes: int = 64 * 1024

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Limits:
        """A question's ``limits`` (unknown keys and nulls ignored, defaults for the rest)."""
        kinds = {f.name: float if f.type == "float" else int for f in fields(cls)}
        return cls(**{k: kinds[k](v) for k, v in (data or {}).items() if k in kinds and v is not None})


@dataclass(frozen=True)
class SandboxResult:
    exit_code: int | None  # None when the process was killed by a signal
    signal: int | None
    timed_out: bool
    stdout: str
    stderr: str
    output_limit_exceeded: bool
    memory_limit_hit: bool
    wall_seconds: float
    report: dict[str, Any] | None  # the harness's JSON report; None if missing or unreadable


def supervise(proc: subprocess.Popen[bytes], *, limits: Limits, result_fd: int, kill: Callable[[], None],
               info: tuple[int, Callable[[bytes], None]] | None = None, bwrap: bool = False) -> SandboxResult:
    """Read output, result and info pipes concurrently until the process exits; enforce wall time and caps."""
    assert proc.stdout is not None and proc.stderr is not None
    out, err = proc.stdout.fileno(), proc.stderr.fileno()
    caps = {out: limits.output_bytes, err: limits.output_bytes, result_fd: REPORT_LIMIT}
    if info:
        caps[info[0]] = 4096
    buffers = {fd: bytearray() for fd in caps}
    overflowed: set[int] = set()
    selector = selectors.DefaultSelector()
    for fd in caps:
        os.set_blocking(fd, False)
        selector.register(fd, selectors.EVENT_READ)
    pidfd = os.pidfd_open(proc.pid)
    selector.register(pidfd, selectors.EVENT_READ)
    started = time.monotonic()
    deadline, exited, killed, timed_out = started + limits.wall_seconds, 0.0, 0.0, False
    while True:
        now = time.monotonic()
        if exited and (len(selector.get_map()) == 0 or now >= exited + DRAIN_GRACE):
            break
        if not exited and not killed and now >= deadline:
            killed, timed_out = now, True
            kill()
        if not exited and killed and now >= killed + KILL_GRACE:
            quietly(os.killpg, proc.pid, signal.SIGKILL)
        wait = 0.1 if killed or exited else deadline - now
        for key, _ in selector.select(max(0.0, min(wait, 1.0))):
            if key.fd == pidfd:
                exited = time.monotonic()
                selector.unregister(pidfd)
                # Leftovers in the process group; before reaping, so the group id cannot be reused.
                quietly(os.killpg, proc.pid, signal.SIGKILL)
                continue
            chunk = read(key.fd)
            if chunk is None:
                continue
            if not chunk:
                selector.unregister(key.fd)
                continue
            buffer = buffers[key.fd]
            room = caps[key.fd] - len(buffer)
            buffer += chunk[:room]
            if info and key.fd == info[0] and buffer.endswith(b"}"):
                info[1](bytes(buffer))
            if len(chunk) > room:  # over a cap: stop now rather than read on
                overflowed.add(key.fd)
                if not killed:
                    killed = time.monotonic()
                    kill()
    selector.close()
    proc.stdout.close()
    proc.stderr.close()
    for fd in (*(fd for fd in caps if fd not in (out, err)), pidfd):
        os.close(fd)
    proc.returncode = os.waitstatus_to_exitcode(os.waitpid(proc.pid, 0)[1])
    code, sig = (None, -proc.returncode) if proc.returncode < 0 else (proc.returncode, None)
    if bwrap and code and 128 < code < 160:
        code, sig = None, code - 128  # bwrap reports a command killed by signal N as exit code 128+N
    stdout, stderr = (text(buffers[fd], over=fd in overflowed) for fd in (out, err))
    report = parse_report(bytes(buffers[result_fd])) if result_fd not in overflowed else None
    memory = bool(report and report.get("memory_error")) or any(
        sign in stderr for sign in ("MemoryError", "Cannot allocate memory", "out of memory"))
    return SandboxResult(exit_code=code, signal=sig, timed_out=timed_out, stdout=stdout, stderr=stderr,
                         output_limit_exceeded=bool(overflowed & {out, err}), memory_limit_hit=memory,
                         wall_seconds=round(time.monotonic() - started, 3), report=report)


def wait_group_gone(pgid: int, timeout: float) -> None:
    """Until no live process is left in the group (zombies hold no files; a slow init may keep them)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except OSError:
            return
        states = []
        for entry in os.scandir("/proc"):
            try:
                with open(f"/proc/{entry.name}/stat") as handle:
                    state, _, group = handle.read().rsplit(")", 1)[1].split()[:3]
            except (OSError, ValueError):  # gone, or not a process
                continue
            states.append(state if int(group) == pgid else "Z")
        if all(state in ("Z", "X") for state in states):
            return
        time.sleep(0.01)


def wait_readable(fd: int, timeout: float) -> None:
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        selector.select(timeout)


def read(fd: int) -> bytes | None:
    try:
        return os.read(fd, 65536)
    except BlockingIOError:
        return None


def text(data: bytearray, *, over: bool) -> str:
    text = data.decode("utf-8", errors="replace")
    return text + TRUNCATED if over else text


def parse_report(data: bytes) -> dict[str, Any] | None:
    try:
        report = json.loads(data)
    except ValueError:
        return None
    valid = (isinstance(report, dict) and isinstance(report.get("tests"), list)
             and all(isinstance(t, dict) for t in report["tests"])
             and isinstance(report.get("import_error"), (str, type(None))))
    return report if valid else None


def job_environment(base: Mapping[str, str]) -> dict[str, str]:
    """``base`` plus a fresh job marker."""
    return {**base, JOB_MARKER: f"{os.getpid()}.{secrets.token_hex(8)}"}


def quietly(func: Callable[..., Any], *args: Any) -> None:
    try:
        func(*args)
    except OSError:
        pass  # already gone


def memfd(data: bytes) -> int:
    fd = os.memfd_create("rehearse-sandbox")  # close-on-exec; pass_fds hands it to bwrap, which copies it in
    os.write(fd, data)
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


def python_roots() -> list[str]:
    """The directories the interpreter needs, outside /usr, outermost first."""
    roots = {os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix)}
    roots.add(os.path.dirname(os.path.dirname(os.path.realpath(sys.executable))))
    ordered = sorted(roots, key=len)
    keep: list[str] = []
    for root in ordered:
        if not any(root == k or root.startswith(k.rstrip("/") + "/") for k in ["/usr", *keep]):
            keep.append(root)
    return keep


def reachability_plan(paths: list[str]) -> dict[str, list[str]]:
    """For paths under a directory uid 65534 cannot search (pyenv in /root): that directory -> the paths."""
    plan: dict[str, list[str]] = {}
    for path in paths:
        parts = Path(path).parts
        for depth in range(1, len(parts)):
            ancestor = os.path.join(*parts[:depth])
            info = os.stat(ancestor)
            if info.st_uid != SANDBOX_UID and not info.st_mode & 0o001:
                if ancestor in VITAL:
                    raise SandboxUnavailable(f"{ancestor} is not searchable by uid {SANDBOX_UID}")
                plan.setdefault(ancestor, []).append(path)
                break
    return plan


_libc = ctypes.CDLL(None, use_errno=True)
_libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
CLONE_NEWNS, MS_NOSUID, MS_NODEV, MS_BIND, MS_REC, MS_PRIVATE = 0x20000, 2, 4, 4096, 16384, 1 << 18


def expose(plan: dict[str, list[str]]) -> None:
    """In the child, as root: a private mount namespace where each blocked directory is a
    tmpfs holding only the bind-mounted paths that the unprivileged child needs."""

    def check(rc: int, what: str) -> None:
        if rc != 0:
            raise OSError(ctypes.get_errno(), f"{what}: {os.strerror(ctypes.get_errno())}")

    check(_libc.unshare(CLONE_NEWNS), "unshare(CLONE_NEWNS)")
    check(_libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None), "make / private")
    for blocked, paths in plan.items():
        fds = [os.open(p, os.O_PATH | os.O_CLOEXEC) for p in paths]  # opened in this namespace, before hiding
        check(_libc.mount(b"tmpfs", blocked.encode(), b"tmpfs", MS_NOSUID | MS_NODEV, b"mode=0755,size=1m"), "tmpfs")
        for path, fd in zip(paths, fds):
            if os.path.isdir(f"/proc/self/fd/{fd}"):
                os.makedirs(path, exist_ok=True)
            else:
                os.makedirs(os.path.dirname(path), exist_ok=True)
                os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o644))
            check(_libc.mount(f"/proc/self/fd/{fd}".encode(), path.encode(), None, MS_BIND | MS_REC, None), "bind")
            os.close(fd)


def tasks_of(uid: int) -> int:
    """Threads owned by ``uid`` (RLIMIT_NPROC counts them all), for process mode without root."""
    count = 0
    for entry in os.scandir("/proc"):
        try:
            if entry.name.isdigit() and entry.stat().st_uid == uid:
                count += len(os.listdir(f"/proc/{entry.name}/task"))
        except OSError:
            continue
    return count
