"""One code challenge, graded by two boxes that cannot reach each other.

The candidate's box serves ``solution.py`` with uvicorn on a listening Unix socket the grader
bound and handed over as a file descriptor (the box never learns its path). The runner's box
holds the hidden tests and reaches the app through that socket only, bind-mounted as its
sole window on the host. The grader reads the app's output (shown to the candidate,
capped), the app's status lines (only to know when to start the tests) and the runner's
report (the only source of the score), each on a pipe of its own.

Both boxes start at once (the runner loads while the app imports); the tests begin when
the app says it is serving, and everything ends by the question's wall-clock limit.
"""

from __future__ import annotations

import json
import os
import socket
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from webapp.grading.sandbox.boxes import Box, Program, Sandbox
from webapp.grading.sandbox.limits import RUNNER_LIMITS, Limits
from webapp.grading.sandbox.linux import memfd, new_job_id, wait_readable
from webapp.grading.sandbox.watch import Stream, Watcher

INSIDE = Path(__file__).with_name("inside")
APP_HOST = (INSIDE / "app_host.py").read_bytes()
TEST_RUNNER = (INSIDE / "test_runner.py").read_bytes()
REPORT_LIMIT = 1 << 20
STATUS_LIMIT = 64 * 1024
DIAGNOSTICS_LIMIT = 16 * 1024
RUNNER_GRACE = 3.0  # the runner keeps its own deadline; this is for a runner that broke
DRAIN_GRACE = 0.5
MEMORY_SIGNS = ("MemoryError", "Cannot allocate memory", "out of memory")


@dataclass
class ChallengeRun:
    """What happened; the grader (graders/code.py) decides what it is worth."""

    app: str = "starting"  # ready | import_error | no_app | stopped | exited | not_ready
    app_message: str = ""
    app_exited_early: bool = False  # the app ended before the grader stopped it
    app_returncode: int | None = None
    stdout: str = ""
    stderr: str = ""
    output_limit_exceeded: bool = False
    events: list[dict[str, Any]] = field(default_factory=list)  # the runner's report, line by line
    malformed: list[str] = field(default_factory=list)  # report lines that were not JSON objects
    report_overflowed: bool = False
    runner_started_tests: bool = False
    runner_diagnostics: str = ""  # the runner's own stderr: for admins, never for candidates
    timed_out: bool = False
    startup_seconds: float | None = None
    wall_seconds: float = 0.0

    @property
    def memory_limit_hit(self) -> bool:
        return any(sign in self.stderr for sign in MEMORY_SIGNS)

    @property
    def app_signal(self) -> int | None:
        """The signal that ended the app, if one did (bwrap reports signal N as exit status 128 + N)."""
        code = self.app_returncode
        if code is None or not self.app_exited_early:
            return None
        return -code if code < 0 else code - 128 if 128 < code < 160 else None

    def event(self, name: str) -> dict[str, Any] | None:
        return next((e for e in self.events if e.get("event") == name), None)


def run_challenge(sandbox: Sandbox, *, solution: str, hidden_tests: str, limits: Limits,
                  test_seconds: float = 5, fail_fast: bool = False) -> ChallengeRun:
    run, started = ChallengeRun(), time.monotonic()
    deadline = started + limits.wall_seconds
    job = new_job_id()
    with tempfile.TemporaryDirectory(prefix="rehearse-socket-") as socket_dir:
        os.chmod(socket_dir, 0o711)  # the runner's uid must reach the socket; nobody may list the dir
        path = os.path.join(socket_dir, "app.sock")
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(path)
        listener.listen(128)
        os.chmod(path, 0o666)
        pipes = _Pipes()
        job_input = memfd(json.dumps({"hidden_tests": hidden_tests, "solution": solution,
                                      "test_seconds": test_seconds, "fail_fast": fail_fast}).encode())
        boxes: list[Box] = []
        try:
            boxes.append(sandbox.start(Program(
                entry="app_host.py", files={"app_host.py": APP_HOST, "solution.py": solution.encode()},
                limits=limits, job=job, pass_fds=(listener.fileno(), pipes.status_w),
                args=["--listen-fd", str(listener.fileno()), "--status-fd", str(pipes.status_w)])))
            boxes.append(sandbox.start(Program(
                entry="test_runner.py", files={"test_runner.py": TEST_RUNNER}, limits=RUNNER_LIMITS, job=job,
                pass_fds=(job_input, pipes.go_r, pipes.report_w), binds={"app.sock": path},
                args=["--input-fd", str(job_input), "--go-fd", str(pipes.go_r), "--report-fd",
                      str(pipes.report_w), "--socket", "app.sock"])))
        finally:
            listener.close()  # the app holds the only listening descriptor: if it dies, connecting fails at once
            pipes.close_child_ends()
            os.close(job_input)
            if len(boxes) < 2:
                for box in boxes:
                    box.finish()
                pipes.close()
        _Supervision(run, *boxes, pipes=pipes, limits=limits, started=started, deadline=deadline).run()
    run.wall_seconds = round(time.monotonic() - started, 3)
    return run


class _Pipes:
    """The job's three pipes; each end closed exactly once (a number closed twice could by then
    belong to another grader thread's file)."""

    def __init__(self) -> None:
        self.status_r, self.status_w = os.pipe()
        self.report_r, self.report_w = os.pipe()
        self.go_r, self.go_w = os.pipe()
        self._open = {self.status_r, self.status_w, self.report_r, self.report_w, self.go_r, self.go_w}

    def release(self, *fds: int) -> None:
        for fd in fds:
            if fd in self._open:
                self._open.discard(fd)
                os.close(fd)

    def close_child_ends(self) -> None:
        self.release(self.status_w, self.report_w, self.go_r)

    def close(self) -> None:
        self.release(*list(self._open))


class _Supervision:
    def __init__(self, run: ChallengeRun, app: Box, runner: Box, *, pipes: _Pipes, limits: Limits,
                 started: float, deadline: float) -> None:
        self.run_, self.app, self.runner, self.pipes = run, app, runner, pipes
        self.started, self.deadline = started, deadline
        self.watch = Watcher()
        self.runner_exited = self.stopping = False
        over = self._app_output_overflowed
        self.out = self.watch.read(app.stdout, limits.output_bytes, on_overflow=over)
        self.err = self.watch.read(app.stderr, limits.output_bytes, on_overflow=over)
        self.status = self.watch.read(pipes.status_r, STATUS_LIMIT, on_line=self._status)
        self.report = self.watch.read(pipes.report_r, REPORT_LIMIT, on_line=self._report,
                                      on_overflow=self._report_overflowed)
        # Whatever the hidden tests print must never block the runner: read on past the cap.
        self.watch.read(runner.stdout, DIAGNOSTICS_LIMIT, keep_draining=True)
        self.diagnostics: Stream = self.watch.read(runner.stderr, DIAGNOSTICS_LIMIT, keep_draining=True)
        self.watch.on_exit(app.pidfd, self._app_exited)
        self.watch.on_exit(runner.pidfd, self._runner_exited)

    def run(self) -> None:
        run = self.run_
        try:
            ready = self.watch.run(until=self._both_ready, deadline=self.deadline)
            if ready and run.app == "ready" and run.event("loaded") and not run.output_limit_exceeded:
                self._start_tests()
                finished = self.watch.run(until=lambda: self.runner_exited,
                                          deadline=self.deadline + RUNNER_GRACE)
                run.timed_out = not finished
            elif not ready:
                run.timed_out = True
                if run.app == "starting":
                    run.app = "not_ready"
        finally:
            self._stop()

    # events ----------------------------------------------------------------
    def _both_ready(self) -> bool:
        run = self.run_
        app_decided = run.app != "starting"
        runner_decided = bool(run.event("loaded") or run.event("load_error") or run.malformed
                              or self.runner_exited or run.report_overflowed)
        return (app_decided and runner_decided) or (app_decided and run.app != "ready") or run.output_limit_exceeded

    def _status(self, line: bytes) -> None:
        if self.run_.app not in ("starting", "exited"):  # an exit may be seen before the line it left
            return
        try:
            event = json.loads(line)
        except ValueError:
            return  # the candidate can write here: whatever it says only decides when tests start
        if isinstance(event, dict) and event.get("event") in ("ready", "import_error", "no_app", "stopped"):
            self.run_.app = str(event["event"])
            self.run_.app_message = str(event.get("message", ""))[:1000]
            if self.run_.app == "ready":
                self.run_.startup_seconds = round(time.monotonic() - self.started, 3)

    def _report(self, line: bytes) -> None:
        try:
            event = json.loads(line)
        except ValueError:
            event = None
        if isinstance(event, dict):
            self.run_.events.append(event)
        else:
            self.run_.malformed.append(line[:200].decode("utf-8", errors="replace"))

    def _app_output_overflowed(self) -> None:
        self.run_.output_limit_exceeded = True
        self.app.kill()

    def _report_overflowed(self) -> None:
        self.run_.report_overflowed = True
        self.runner.kill()

    def _app_exited(self) -> None:
        if self.stopping or self.run_.output_limit_exceeded:
            return  # we killed it
        self.run_.app_exited_early = True
        if self.run_.app == "starting":
            self.run_.app = "exited"

    def _runner_exited(self) -> None:
        self.runner_exited = True

    # actions ---------------------------------------------------------------
    def _start_tests(self) -> None:
        left = max(0.0, self.deadline - time.monotonic())
        try:
            os.write(self.pipes.go_w, f"go {left:.3f}\n".encode())
            self.run_.runner_started_tests = True
        except OSError:
            pass  # the runner is gone; its missing report says so
        self.pipes.release(self.pipes.go_w)

    def _stop(self) -> None:
        run = self.run_
        if not run.output_limit_exceeded and wait_readable(self.app.pidfd, 0):
            run.app_exited_early = True  # it ended on its own, even if that event was not served yet
        self.stopping = True
        self.app.kill()
        self.runner.kill()
        self.pipes.release(self.pipes.go_w)
        self.watch.drain({self.out.fd, self.err.fd, self.status.fd, self.report.fd, self.diagnostics.fd},
                         DRAIN_GRACE)
        self.watch.close()
        run.app_returncode = self.app.finish()
        self.runner.finish()
        self.pipes.close()
        run.stdout, run.stderr = self.out.text(), self.err.text()
        run.runner_diagnostics = self.diagnostics.text()
