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
/root) is exposed by a private mount namespace in the child (``expose``). The process
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

import json
import logging
from abc import ABC, abstractmethod
import math
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping
from functools import lru_cache
from pathlib import Path


from webapp.grading.sandbox_runtime import (  # noqa: F401  (Limits, SandboxResult: this module's API too)
    JOB_MARKER, KILL_GRACE, SANDBOX_UID, Limits, SandboxResult, SandboxUnavailable, expose, job_environment, memfd,
    python_roots, quietly,
    reachability_plan, supervise, tasks_of, wait_group_gone, wait_readable,
)

log = logging.getLogger("rehearse.sandbox")
HARNESS_SOURCE = (Path(__file__).with_name("harness.py")).read_bytes()
WORKDIR = "/sandbox"
ENV = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}


class Sandbox(ABC):
    mode = "none"
    warning: str | None = None

    def __init__(self) -> None:
        self.python = os.path.join(os.path.realpath(os.path.dirname(sys.executable)), os.path.basename(sys.executable))
        self.run_as = SANDBOX_UID if os.geteuid() == 0 else None

    @abstractmethod
    def run(self, *, files: Mapping[str, str], limits: Limits) -> SandboxResult:
        """Run the harness against ``files`` under ``limits``."""

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
                expose(plan)
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
        self._probe()

    def run(self, *, files: Mapping[str, str], limits: Limits) -> SandboxResult:
        sources = {**{name: text.encode() for name, text in files.items()}, "harness.py": HARNESS_SOURCE}
        memfds = [memfd(data) for data in sources.values()]
        result_r, result_w = os.pipe()
        info_r, info_w = os.pipe()
        work_bytes = max(16, 4 * limits.file_size_mb) << 20
        env = job_environment(ENV)
        argv = [self.bwrap, *self.static_args, "--size", str(work_bytes), "--tmpfs", WORKDIR]
        argv += ["--setenv", JOB_MARKER, env[JOB_MARKER]]
        for name, fd in zip(sources, memfds):
            argv += ["--ro-bind-data", str(fd), f"{WORKDIR}/{name}"]
        # Last: the sandbox's root (where bwrap made the mount points) becomes read-only too.
        argv += ["--remount-ro", "/", "--info-fd", str(info_w), self.python, "-I", "-B", "harness.py", str(result_w),
                 "--nproc", str(limits.processes)]
        try:
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    env=env, start_new_session=True, pass_fds=(*memfds, result_w, info_w),
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
                quietly(signal.pidfd_send_signal, sandbox_init[0], signal.SIGKILL)
            quietly(os.killpg, proc.pid, signal.SIGKILL)

        try:
            result = supervise(proc, limits=limits, result_fd=result_r, kill=kill, info=(info_r, on_info), bwrap=True)
            if sandbox_init:  # pid 1 exits only once everything else in its namespace is gone
                wait_readable(sandbox_init[0], KILL_GRACE)
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
        self.plan = reachability_plan(python_roots() + [tempfile.gettempdir()]) if self.run_as is not None else {}
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
            nproc = limits.processes + (0 if self.run_as is not None else tasks_of(os.getuid()))
            result_r, result_w = os.pipe()
            try:
                proc = subprocess.Popen(
                    [self.python, "-I", "-B", "harness.py", str(result_w), "--nproc", str(nproc)], cwd=work,
                    stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                    env=job_environment({**ENV, "HOME": work, "TMPDIR": work}), start_new_session=True,
                    pass_fds=(result_w,),
                    preexec_fn=self._preexec(self.plan, self._rlimits(limits, nproc=nproc)))
            except BaseException:
                os.close(result_r)
                raise
            finally:
                os.close(result_w)
            result = supervise(proc, limits=limits, result_fd=result_r,
                                kill=lambda: quietly(os.killpg, proc.pid, signal.SIGKILL))
            wait_group_gone(proc.pid, KILL_GRACE)  # killed above; let them die before the dir goes
            return result
        finally:
            # rmtree never follows symlinks; nothing else here is opened after candidate code ran.
            shutil.rmtree(work, ignore_errors=True)


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
