"""Runs the test harness against candidate code under resource limits, isolated when possible.

``make_sandbox(mode).run(files=..., limits=...)`` with two implementations (docs/sandbox.md):

* ``bwrap``: bubblewrap, ``--unshare-all`` (user, pid, net, ipc, uts, cgroup namespaces: no
  network at all), ``--disable-userns --die-with-parent --new-session --clearenv``. Visible:
  read-only /usr (+ /bin, /lib… links), /etc/ld.so.cache, the Python trees (venv, base
  prefix, real interpreter), its own /proc, a read-only /dev, a read-only root, and one
  writable place, /sandbox: a size-capped tmpfs that exists only inside the sandbox (files
  are copied in from memfds; the host never opens what the candidate wrote). Nothing of the
  app (source tree, data dir, database, secret key, uploads, .env) is mounted.
* ``process``: the same harness and limits in a child with a cleared environment and a temp
  dir as cwd. Not isolated: it logs a loud warning.

Both: setrlimit in the child (CPU, AS, FSIZE, NOFILE, CORE=0, NPROC), a wall-clock kill,
stdout/stderr read concurrently and the run killed once either passes ``output_bytes``,
the report read only from a dedicated pipe.

Uid: as root, the child drops to 65534 (setgroups/setgid/setuid) before exec'ing bwrap,
because the kernel never enforces RLIMIT_NPROC for kuid 0 (not even inside a user
namespace), so only a non-root kuid contains a fork bomb. bwrap then builds its namespaces
unprivileged (unprivileged user namespaces work here; the construction-time probe checks).
bwrap resolves bind sources as that uid, so an interpreter under a 0700 directory (pyenv in
/root) is exposed by a private mount namespace in the child (``_expose``). The process
limit is set by the harness inside the sandbox, where the kernel counts per user namespace:
set before bwrap, one sandbox's fork bomb made a concurrent sandbox fail with EAGAIN.

Escapees: in bwrap the pid namespace dies with its init (killed on timeout; gone when the
harness ends), taking setsid/double-forked processes along; run() returns only after that.
Process mode kills the process group only: setsid escapees survive (documented risk).

Measured (bench/sandbox_overhead.py, 2 cores, as root, median of 10): trivial test 22.9 ms
unsandboxed, 28.1 ms process, 32.1 ms bwrap; a bank challenge 292 ms in all three (importing
FastAPI dominates); 14 reference solutions on 2 threads: 6.3 / 6.4 / 6.4 submissions/s.
"""

from __future__ import annotations

import ctypes
import json
import logging
import math
import os
import resource
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from functools import lru_cache
from pathlib import Path
from typing import Any

log = logging.getLogger("rehearse.sandbox")

HARNESS_SOURCE = (Path(__file__).with_name("harness.py")).read_bytes()
SANDBOX_UID = 65534  # nobody
WORKDIR = "/sandbox"
TRUNCATED = "\n… [output truncated]"
REPORT_LIMIT = 1 << 20
KILL_GRACE = 3.0  # seconds for a killed sandbox to be gone before the process group is killed too
DRAIN_GRACE = 0.2  # seconds to collect output still in flight after the main process exited
ENV = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}
# Never hide these behind a tmpfs (see _reachability_plan).
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


class Sandbox:
    mode = "none"
    warning: str | None = None

    def __init__(self) -> None:
        self.python = os.path.join(os.path.realpath(os.path.dirname(sys.executable)), os.path.basename(sys.executable))
        self.run_as = SANDBOX_UID if os.geteuid() == 0 else None

    def run(self, *, files: Mapping[str, str], limits: Limits) -> SandboxResult:
        raise NotImplementedError

    def _rlimits(self, limits: Limits, *, nproc: int | None) -> list[tuple[int, tuple[int, int]]]:
        cpu, mem = max(1, math.ceil(limits.cpu_seconds)), limits.memory_mb << 20
        wanted = {resource.RLIMIT_CORE: (0, 0), resource.RLIMIT_CPU: (cpu, cpu + 1), resource.RLIMIT_AS: (mem, mem),
                  resource.RLIMIT_FSIZE: (limits.file_size_mb << 20,) * 2,
                  resource.RLIMIT_NOFILE: (limits.open_files,) * 2}
        if nproc is not None:
            wanted[resource.RLIMIT_NPROC] = (nproc, nproc)
        result = []
        for kind, (soft, hard) in wanted.items():  # never ask for more than we have (after the uid drop we can't)
            cap = resource.getrlimit(kind)[1]
            hard = hard if cap == resource.RLIM_INFINITY else min(hard, cap)
            result.append((kind, (min(soft, hard), hard)))
        return result

    def _preexec(self, plan: dict[str, list[str]], rlimits: list[tuple[int, tuple[int, int]]]) -> Callable[[], None]:
        uid = self.run_as

        def setup() -> None:  # runs in the child between fork and exec: no imports, no logging
            if plan:
                _expose(plan)
            if uid is not None:
                os.setgroups([])
                os.setgid(uid)
                os.setuid(uid)
            # Nicer than the web app, so it stays responsive under a CPU hog (never less nice: not allowed).
            os.setpriority(os.PRIO_PROCESS, 0, max(10, os.getpriority(os.PRIO_PROCESS, 0)))
            for kind, value in rlimits:
                resource.setrlimit(kind, value)

        return setup

    def _probe(self) -> None:
        try:
            result = self.run(files={"solution.py": "", "hidden_tests.py": "def test_probe():\n    pass\n"},
                              limits=Limits(wall_seconds=30))
        except (OSError, subprocess.SubprocessError) as exc:  # e.g. the uid drop or mount setup was refused
            raise SandboxUnavailable(f"{self.mode} sandbox could not start: {exc}") from exc
        tests = (result.report or {}).get("tests") or [{}]
        if tests[0].get("outcome") != "passed":
            raise SandboxUnavailable(f"{self.mode} sandbox probe failed (exit {result.exit_code}, signal "
                                     f"{result.signal}): {result.stderr.strip()[-500:] or 'no output'}")


class BwrapSandbox(Sandbox):
    mode = "bwrap"

    def __init__(self, *, bwrap: str = "bwrap") -> None:
        super().__init__()
        found = shutil.which(bwrap)
        if found is None:
            raise SandboxUnavailable(f"bubblewrap ({bwrap!r}) is not installed; install the 'bubblewrap' package")
        self.bwrap = os.path.realpath(found)
        roots = _python_roots()
        self.static_args = ["--unshare-all", "--unshare-user", "--disable-userns", "--die-with-parent",
                            "--new-session", "--clearenv", "--cap-drop", "ALL", "--hostname", "sandbox",
                            "--ro-bind", "/usr", "/usr"]
        for name in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
            if os.path.islink(name):
                self.static_args += ["--symlink", os.readlink(name), name]
            elif os.path.isdir(name):
                self.static_args += ["--ro-bind", name, name]
        if os.path.exists("/etc/ld.so.cache"):
            self.static_args += ["--ro-bind", "/etc/ld.so.cache", "/etc/ld.so.cache"]
        for root in roots:
            self.static_args += ["--ro-bind", root, root]
        self.static_args += ["--proc", "/proc", "--dev", "/dev", "--remount-ro", "/dev", "--chdir", WORKDIR]
        for key, value in {**ENV, "HOME": WORKDIR, "TMPDIR": WORKDIR}.items():
            self.static_args += ["--setenv", key, value]
        self.plan = _reachability_plan([self.bwrap, *roots]) if self.run_as is not None else {}
        self._probe()

    def run(self, *, files: Mapping[str, str], limits: Limits) -> SandboxResult:
        sources = {**{name: text.encode() for name, text in files.items()}, "harness.py": HARNESS_SOURCE}
        memfds = [_memfd(data) for data in sources.values()]
        result_r, result_w = os.pipe()
        info_r, info_w = os.pipe()
        work_bytes = max(16, 4 * limits.file_size_mb) << 20
        argv = [self.bwrap, *self.static_args, "--size", str(work_bytes), "--tmpfs", WORKDIR]
        for name, fd in zip(sources, memfds):
            argv += ["--ro-bind-data", str(fd), f"{WORKDIR}/{name}"]
        # Last: the sandbox's root (where bwrap made the mount points) becomes read-only too.
        argv += ["--remount-ro", "/", "--info-fd", str(info_w), self.python, "-I", "-B", "harness.py", str(result_w),
                 "--nproc", str(limits.processes)]
        try:
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    env=dict(ENV), start_new_session=True, pass_fds=(*memfds, result_w, info_w),
                                    preexec_fn=self._preexec(self.plan, self._rlimits(limits, nproc=None)))
        except BaseException:
            os.close(result_r)
            os.close(info_r)
            raise
        finally:
            for fd in (*memfds, result_w, info_w):
                os.close(fd)
        sandbox_init: list[int] = []  # pidfd of the sandbox's pid 1, once bwrap reports it

        def on_info(data: bytes) -> None:
            if sandbox_init:
                return
            try:
                sandbox_init.append(os.pidfd_open(int(json.loads(data)["child-pid"])))
            except (ValueError, KeyError, OSError):
                pass

        def kill() -> None:  # killing pid 1 of the pid namespace kills everything in it
            if sandbox_init:
                _quietly(signal.pidfd_send_signal, sandbox_init[0], signal.SIGKILL)
            _quietly(os.killpg, proc.pid, signal.SIGKILL)

        try:
            result = _supervise(proc, limits=limits, result_fd=result_r, kill=kill, info=(info_r, on_info), bwrap=True)
            if sandbox_init:  # pid 1 exits only once everything else in its namespace is gone
                _wait_readable(sandbox_init[0], KILL_GRACE)
        finally:
            for fd in sandbox_init:
                os.close(fd)
        return result


class ProcessSandbox(Sandbox):
    mode = "process"

    def __init__(self, *, reason: str = "") -> None:
        super().__init__()
        self.warning = ("Candidate code is graded WITHOUT isolation (process mode: resource limits, a cleared "
                        "environment and a temp dir only; it can read what the server's user can read and reach "
                        "the network). Install bubblewrap and set REHEARSE_SANDBOX=bwrap." + (f" ({reason})" if reason else ""))
        log.warning("SANDBOX NOT ISOLATED: %s", self.warning)
        self.plan = _reachability_plan(_python_roots() + [tempfile.gettempdir()]) if self.run_as is not None else {}
        self._probe()

    def run(self, *, files: Mapping[str, str], limits: Limits) -> SandboxResult:
        work = tempfile.mkdtemp(prefix="rehearse-sandbox-")
        try:
            for name, text in {**files, "harness.py": HARNESS_SOURCE.decode()}.items():
                Path(work, name).write_text(text, encoding="utf-8")
            if self.run_as is not None:
                os.chown(work, self.run_as, self.run_as)
            # As root the uid is dropped to nobody, whose process count is the sandbox's own (shared by
            # concurrent process-mode runs); otherwise it must leave room for the server's own threads.
            nproc = limits.processes + (0 if self.run_as is not None else _tasks_of(os.getuid()))
            result_r, result_w = os.pipe()
            try:
                proc = subprocess.Popen(
                    [self.python, "-I", "-B", "harness.py", str(result_w), "--nproc", str(nproc)], cwd=work,
                    stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                    env={**ENV, "HOME": work, "TMPDIR": work}, start_new_session=True, pass_fds=(result_w,),
                    preexec_fn=self._preexec(self.plan, self._rlimits(limits, nproc=nproc)))
            except BaseException:
                os.close(result_r)
                raise
            finally:
                os.close(result_w)
            result = _supervise(proc, limits=limits, result_fd=result_r,
                                kill=lambda: _quietly(os.killpg, proc.pid, signal.SIGKILL))
            _wait_group_gone(proc.pid, KILL_GRACE)  # killed above; let them die before the dir goes
            return result
        finally:
            # rmtree never follows symlinks; nothing else here is opened after candidate code ran.
            shutil.rmtree(work, ignore_errors=True)


def _supervise(proc: subprocess.Popen[bytes], *, limits: Limits, result_fd: int, kill: Callable[[], None],
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
            _quietly(os.killpg, proc.pid, signal.SIGKILL)
        wait = 0.1 if killed or exited else deadline - now
        for key, _ in selector.select(max(0.0, min(wait, 1.0))):
            if key.fd == pidfd:
                exited = time.monotonic()
                selector.unregister(pidfd)
                # Leftovers in the process group; before reaping, so the group id cannot be reused.
                _quietly(os.killpg, proc.pid, signal.SIGKILL)
                continue
            chunk = _read(key.fd)
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
    stdout, stderr = (_text(buffers[fd], over=fd in overflowed) for fd in (out, err))
    report = _parse_report(bytes(buffers[result_fd])) if result_fd not in overflowed else None
    memory = bool(report and report.get("memory_error")) or any(
        sign in stderr for sign in ("MemoryError", "Cannot allocate memory", "out of memory"))
    return SandboxResult(exit_code=code, signal=sig, timed_out=timed_out, stdout=stdout, stderr=stderr,
                         output_limit_exceeded=bool(overflowed & {out, err}), memory_limit_hit=memory,
                         wall_seconds=round(time.monotonic() - started, 3), report=report)


def _wait_group_gone(pgid: int, timeout: float) -> None:
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


def _wait_readable(fd: int, timeout: float) -> None:
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        selector.select(timeout)


def _read(fd: int) -> bytes | None:
    try:
        return os.read(fd, 65536)
    except BlockingIOError:
        return None


def _text(data: bytearray, *, over: bool) -> str:
    text = data.decode("utf-8", errors="replace")
    return text + TRUNCATED if over else text


def _parse_report(data: bytes) -> dict[str, Any] | None:
    try:
        report = json.loads(data)
    except ValueError:
        return None
    valid = (isinstance(report, dict) and isinstance(report.get("tests"), list)
             and all(isinstance(t, dict) for t in report["tests"])
             and isinstance(report.get("import_error"), (str, type(None))))
    return report if valid else None


def _quietly(func: Callable[..., Any], *args: Any) -> None:
    try:
        func(*args)
    except OSError:
        pass  # already gone


def _memfd(data: bytes) -> int:
    fd = os.memfd_create("rehearse-sandbox")  # close-on-exec; pass_fds hands it to bwrap, which copies it in
    os.write(fd, data)
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


def _python_roots() -> list[str]:
    """The directories the interpreter needs, outside /usr, outermost first."""
    roots = {os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix)}
    roots.add(os.path.dirname(os.path.dirname(os.path.realpath(sys.executable))))
    ordered = sorted(roots, key=len)
    keep: list[str] = []
    for root in ordered:
        if not any(root == k or root.startswith(k.rstrip("/") + "/") for k in ["/usr", *keep]):
            keep.append(root)
    return keep


def _reachability_plan(paths: list[str]) -> dict[str, list[str]]:
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


def _expose(plan: dict[str, list[str]]) -> None:
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


def _tasks_of(uid: int) -> int:
    """Threads owned by ``uid`` (RLIMIT_NPROC counts them all), for process mode without root."""
    count = 0
    for entry in os.scandir("/proc"):
        try:
            if entry.name.isdigit() and entry.stat().st_uid == uid:
                count += len(os.listdir(f"/proc/{entry.name}/task"))
        except OSError:
            continue
    return count


def make_sandbox(mode: str, *, bwrap: str = "bwrap") -> Sandbox:
    """``bwrap`` fails closed (SandboxUnavailable), ``process`` warns, ``auto`` prefers bwrap."""
    if mode == "bwrap":
        return BwrapSandbox(bwrap=bwrap)
    if mode == "process":
        return ProcessSandbox()
    if mode != "auto":
        raise ValueError(f"unknown sandbox mode {mode!r}: use auto, bwrap or process")
    try:
        return BwrapSandbox(bwrap=bwrap)
    except SandboxUnavailable as exc:
        return ProcessSandbox(reason=f"auto: {exc}")


@lru_cache(maxsize=None)
def shared_sandbox(mode: str) -> Sandbox:
    """One sandbox per mode per process (the probe runs once)."""
    return make_sandbox(mode)


def sandbox_status(mode: str) -> tuple[str, str | None]:
    """(effective mode, warning or None) for an admin banner; ("none", why) when bwrap is required but unusable."""
    try:
        sandbox = shared_sandbox(mode)
    except SandboxUnavailable as exc:
        return "none", f"Code grading is disabled: REHEARSE_SANDBOX={mode} but {exc}"
    return sandbox.mode, sandbox.warning
