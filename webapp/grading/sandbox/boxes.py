"""Boxes: one Python program each, started under resource limits, isolated when possible.

``sandbox.start(program)`` returns a running :class:`Box`; docs/sandbox.md says what each
mode isolates. Two implementations:

* ``bwrap``: bubblewrap with every namespace unshared (no network at all), a read-only
  system and interpreter, its own /proc, and one writable place, a size-capped tmpfs that
  exists only inside the box; the program's files are copied in from memfds.
* ``process``: a child with a cleared environment and a temp dir as cwd. Not isolated.

Both: setrlimit in the child (CPU, AS, FSIZE, NOFILE, CORE=0), nice 10, an empty signal
mask, a parent-death signal (SIGKILL when the starting thread ends), uid 65534 when the
server runs as root (the kernel never enforces RLIMIT_NPROC for uid 0, so only another uid
contains a fork bomb). The process limit itself is set by the program inside the box
(``--nproc``), where the kernel counts per user namespace. bwrap resolves bind sources as
uid 65534, so an interpreter under a 0700 directory (pyenv in /root) is exposed through a
private mount namespace in the child (``linux.expose``).
"""

from __future__ import annotations

import json
import logging
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from webapp.grading.sandbox.limits import Limits, rlimits
from webapp.grading.sandbox.linux import (
    JOB_MARKER,
    SANDBOX_UID,
    SandboxUnavailable,
    die_with,
    expose,
    job_environment,
    memfd,
    python_roots,
    quietly,
    reachability_plan,
    tasks_of,
    wait_group_gone,
    wait_readable,
)

log = logging.getLogger("rehearse.sandbox")
WORKDIR = "/sandbox"
ENV = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}
KILL_GRACE = 3.0  # seconds for a killed box to be gone


@dataclass(frozen=True)
class Program:
    """``python -I -B ENTRY ARGS…`` in a fresh work dir holding ``files`` (read-only).

    ``pass_fds`` are inherited under the same numbers; ``binds`` maps a name in the work dir
    to a host path (a socket, say) the program may use and nothing else of the host."""

    entry: str
    files: Mapping[str, bytes]
    limits: Limits
    job: str
    args: Sequence[str] = ()
    pass_fds: Sequence[int] = ()
    binds: Mapping[str, str] = field(default_factory=dict)


class Box:
    """A running program: its process, its pipes, and the means to kill everything it started."""

    def __init__(self, proc: subprocess.Popen[bytes], *, kill_all: Callable[[], None],
                 wait_all_gone: Callable[[], None], cleanup: Callable[[], None] = lambda: None) -> None:
        self.proc = proc
        self.pidfd = os.pidfd_open(proc.pid)
        self._kill_all, self._wait_all_gone, self._cleanup = kill_all, wait_all_gone, cleanup
        self.returncode: int | None = None
        # CPU time the kernel accounted to the box's process and the children it reaped: exact in
        # process mode; under bwrap the namespace's init is killed, so its children go uncounted.
        self.cpu_seconds = 0.0

    @property
    def stdout(self) -> int:
        assert self.proc.stdout is not None
        return self.proc.stdout.fileno()

    @property
    def stderr(self) -> int:
        assert self.proc.stderr is not None
        return self.proc.stderr.fileno()

    def kill(self) -> None:
        self._kill_all()

    def finish(self) -> int:
        """Kill what is left, wait until the box is empty, reap, release everything; the exit status."""
        self._kill_all()
        self._wait_all_gone()
        quietly(os.killpg, self.proc.pid, signal.SIGKILL)  # before reaping, so the group id cannot be reused
        _, status, usage = os.wait4(self.proc.pid, 0)
        self.returncode = os.waitstatus_to_exitcode(status)
        self.cpu_seconds = usage.ru_utime + usage.ru_stime
        self.proc.returncode = self.returncode
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()
        os.close(self.pidfd)
        self._cleanup()
        return self.returncode


class Sandbox(ABC):
    mode = "none"
    warning: str | None = None

    def __init__(self) -> None:
        self.python = os.path.join(os.path.realpath(os.path.dirname(sys.executable)), os.path.basename(sys.executable))
        self.run_as = SANDBOX_UID if os.geteuid() == 0 else None

    @abstractmethod
    def start(self, program: Program) -> Box:
        """Start ``program`` in a new box."""

    def _preexec(self, plan: dict[str, list[str]], limits: list[tuple[int, tuple[int, int]]]) -> Callable[[], None]:
        uid, parent = self.run_as, os.getpid()

        def setup() -> None:  # runs in the child between fork and exec: no imports, no logging
            signal.pthread_sigmask(signal.SIG_SETMASK, ())  # not the mask of the thread that started it
            if plan:
                expose(plan)
            if uid is not None:
                os.setgroups([])
                os.setgid(uid)
                os.setuid(uid)
            die_with(parent)
            # Nicer than the web app, so it stays responsive under a CPU hog (never less nice: not allowed).
            os.setpriority(os.PRIO_PROCESS, 0, max(10, os.getpriority(os.PRIO_PROCESS, 0)))
            for kind, value in limits:
                resource.setrlimit(kind, value)

        return setup


class BwrapSandbox(Sandbox):
    mode = "bwrap"

    def __init__(self, *, bwrap: str = "bwrap") -> None:
        super().__init__()
        found = shutil.which(bwrap)
        if found is None:
            raise SandboxUnavailable(f"bubblewrap ({bwrap!r}) is not installed; install the 'bubblewrap' package")
        self.bwrap = os.path.realpath(found)
        roots = python_roots()
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
        self.plan = reachability_plan([self.bwrap, *roots]) if self.run_as is not None else {}

    def start(self, program: Program) -> Box:
        memfds = {name: memfd(data) for name, data in program.files.items()}
        info_r, info_w = os.pipe()
        argv = [self.bwrap, *self.static_args, "--setenv", JOB_MARKER, program.job,
                "--size", str(program.limits.work_dir_bytes), "--tmpfs", WORKDIR]
        for name, fd in memfds.items():
            argv += ["--ro-bind-data", str(fd), f"{WORKDIR}/{name}"]
        for name, host_path in program.binds.items():
            argv += ["--bind", host_path, f"{WORKDIR}/{name}"]
        # Last: the box's root (where bwrap made the mount points) becomes read-only too.
        # The process limit is set inside (see the module docstring), by the program's --nproc.
        argv += ["--remount-ro", "/", "--info-fd", str(info_w), self.python, "-I", "-B", program.entry,
                 "--nproc", str(program.limits.processes), *program.args]
        try:
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    env=job_environment(ENV, program.job), start_new_session=True,
                                    pass_fds=(*memfds.values(), *program.pass_fds, info_w),
                                    preexec_fn=self._preexec(self.plan, rlimits(program.limits, nproc=None)))
        except BaseException:
            os.close(info_r)
            raise
        finally:
            for fd in (*memfds.values(), info_w):
                os.close(fd)
        init = _namespace_init(info_r)  # pidfd of the box's pid 1: killing it empties the pid namespace

        def kill_all() -> None:
            if init is not None:
                quietly(signal.pidfd_send_signal, init, signal.SIGKILL)
            quietly(os.killpg, proc.pid, signal.SIGKILL)

        def wait_all_gone() -> None:  # pid 1 exits only once everything else in its namespace is gone
            if init is not None:
                wait_readable(init, KILL_GRACE)

        def close_init() -> None:
            if init is not None:
                os.close(init)

        return Box(proc, kill_all=kill_all, wait_all_gone=wait_all_gone, cleanup=close_init)


def _namespace_init(info_fd: int) -> int | None:
    """bwrap reports its child's pid on the info fd as soon as the namespaces exist."""
    data = b""
    try:
        while not data.rstrip().endswith(b"}") and wait_readable(info_fd, KILL_GRACE):
            chunk = os.read(info_fd, 4096)
            if not chunk:
                break
            data += chunk
        return os.pidfd_open(int(json.loads(data)["child-pid"]))
    except (ValueError, KeyError, OSError):
        return None  # bwrap failed early; its exit status and stderr tell why
    finally:
        os.close(info_fd)


class ProcessSandbox(Sandbox):
    mode = "process"

    def __init__(self, *, reason: str = "") -> None:
        super().__init__()
        self.warning = ("Candidate code is graded WITHOUT isolation (process mode: resource limits, a cleared "
                        "environment and a temp dir only; it can read what the server's user can read, reach "
                        "the network and tamper with the test runner). Install bubblewrap and set "
                        "REHEARSE_SANDBOX=bwrap." + (f" ({reason})" if reason else ""))
        log.warning("SANDBOX NOT ISOLATED: %s", self.warning)
        self.plan = reachability_plan(python_roots() + [tempfile.gettempdir()]) if self.run_as is not None else {}

    def start(self, program: Program) -> Box:
        work = tempfile.mkdtemp(prefix="rehearse-sandbox-")
        try:
            for name, data in program.files.items():
                Path(work, name).write_bytes(data)
            for name, host_path in program.binds.items():
                os.symlink(host_path, os.path.join(work, name))
            if self.run_as is not None:
                os.chown(work, self.run_as, self.run_as)
            # As root the uid is dropped to nobody, whose process count is the sandbox's own (shared by
            # concurrent process-mode runs); otherwise it must leave room for the server's own threads.
            nproc = program.limits.processes + (0 if self.run_as is not None else tasks_of(os.getuid()))
            proc = subprocess.Popen(
                [self.python, "-I", "-B", program.entry, *program.args], cwd=work, stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True, pass_fds=program.pass_fds,
                env=job_environment({**ENV, "HOME": work, "TMPDIR": work}, program.job),
                preexec_fn=self._preexec(self.plan, rlimits(program.limits, nproc=nproc)))
        except BaseException:
            shutil.rmtree(work, ignore_errors=True)
            raise
        # rmtree never follows symlinks; nothing else here is opened after candidate code ran.
        return Box(proc, kill_all=lambda: quietly(os.killpg, proc.pid, signal.SIGKILL),
                   wait_all_gone=lambda: wait_group_gone(proc.pid, KILL_GRACE),
                   cleanup=lambda: shutil.rmtree(work, ignore_errors=True))
