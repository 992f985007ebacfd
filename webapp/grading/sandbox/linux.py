"""Linux plumbing for the sandbox: memfds, job marks, and making the interpreter reachable
for an unprivileged uid. What is isolated, and why, is in docs/sandbox.md.
"""

from __future__ import annotations

import ctypes
import os
import secrets
import selectors
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

SANDBOX_UID = 65534  # nobody
# Every process of a job carries JOB_MARKER=<grader pid>.<random> in its environment, and so does
# the init of its pid namespace (which candidate code cannot replace), so tools and tests find a
# job's processes, and the grader process that owns them, by their own mark rather than by
# guessing from the process tree.
JOB_MARKER = "SANDBOX_JOB"
# Never hide these behind a tmpfs (see reachability_plan).
VITAL = {"/", "/usr", "/etc", "/proc", "/dev", "/sys", "/tmp", "/var", "/bin", "/lib", "/lib64"}


class SandboxUnavailable(RuntimeError):
    """The requested isolation cannot be provided on this machine."""


def job_environment(base: Mapping[str, str], job: str) -> dict[str, str]:
    return {**base, JOB_MARKER: job}


def new_job_id() -> str:
    return f"{os.getpid()}.{secrets.token_hex(8)}"


def quietly(func: Callable[..., Any], *args: Any) -> None:
    try:
        func(*args)
    except OSError:
        pass  # already gone


def memfd(data: bytes) -> int:
    fd = os.memfd_create("rehearse-sandbox")  # close-on-exec; pass_fds hands it to the child
    os.write(fd, data)
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


def wait_readable(fd: int, timeout: float) -> bool:
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        return bool(selector.select(timeout))


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
# Every function the child calls between fork and exec is looked up now: a lookup there (dlsym) could
# wait for a loader lock another thread of the grader held at the fork, for ever.
_libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
_libc.unshare.argtypes = [ctypes.c_int]
_libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
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
        for path, fd in zip(paths, fds, strict=True):
            if os.path.isdir(f"/proc/self/fd/{fd}"):
                os.makedirs(path, exist_ok=True)
            else:
                os.makedirs(os.path.dirname(path), exist_ok=True)
                os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o644))
            check(_libc.mount(f"/proc/self/fd/{fd}".encode(), path.encode(), None, MS_BIND | MS_REC, None), "bind")
            os.close(fd)


PR_SET_PDEATHSIG, SIGKILL = 1, 9


def die_with(parent: int) -> None:
    """In the child, after any uid change (which clears it): SIGKILL when the thread that started
    us ends, and exit now if the grader already died (bubblewrap's own --die-with-parent is set
    only once it runs, so a grader killed in between would otherwise leave an orphan)."""
    _libc.prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0)
    if os.getppid() != parent:
        os._exit(1)


def sweep_orphans() -> int:
    """Kill what is left of the boxes of grader processes that died (how many were found). A grader
    killed while bubblewrap was starting a box can leave a bubblewrap process behind, blocked for
    good, in the instant before bubblewrap's own --die-with-parent applies; its mark names the
    dead grader. (A pid reused since is taken as alive: nothing of a live grader is touched.)"""
    mark, mine, killed = f"{JOB_MARKER}=".encode(), str(os.getpid()), 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/environ", "rb") as handle:
                found = [item for item in handle.read().split(b"\0") if item.startswith(mark)]
        except OSError:  # gone, or not ours to read
            continue
        grader = found[0][len(mark):].split(b".")[0].decode(errors="replace") if found else ""
        if grader.isdigit() and grader != mine and not os.path.exists(f"/proc/{grader}"):
            quietly(os.kill, int(entry.name), SIGKILL)
            killed += 1
    return killed


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
