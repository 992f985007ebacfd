"""One code challenge, graded by two boxes that cannot reach each other.

The candidate's box serves ``solution.py`` with uvicorn on a listening Unix socket the grader
bound and handed over as a file descriptor (the box never learns its path). The runner's box
holds the hidden tests and reaches the app through that socket only, bind-mounted as its
sole window on the host. The grader reads the app's output (shown to the candidate,
capped), the app's status lines (only to know when to start the tests) and the runner's
report (the only source of the score), each on a pipe of its own.

Both boxes of a pair (sandbox/pair.py) start at once, the runner loading while the app imports,
either when the answer arrives (cold) or ahead of it, in a pool (sandbox/pool.py, warm); either
way a pair serves exactly one answer. The tests begin when the app says it is serving, and
everything ends by the question's wall-clock limit, counted from when the answer was handed over.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from webapp.grading.sandbox.boxes import Box, Sandbox
from webapp.grading.sandbox.limits import Limits
from webapp.grading.sandbox.linux import wait_readable
from webapp.grading.sandbox.pair import APP_HOST, TEST_RUNNER, BoxPair, Pipes, app_job, outer_limits, runner_job
from webapp.grading.sandbox.watch import Stream, Watcher

if TYPE_CHECKING:
    from webapp.grading.sandbox.pool import WarmPool

__all__ = ["APP_HOST", "TEST_RUNNER", "ChallengeRun", "run_challenge"]
REPORT_LIMIT = 1 << 20
STATUS_LIMIT = 64 * 1024
DIAGNOSTICS_LIMIT = 16 * 1024
RUNNER_GRACE = 3.0  # the runner keeps its own deadline; this is for a runner that broke
DRAIN_GRACE = 0.5
# A test that lost its connection to the app (test_runner._describe's messages) may have seen the
# app die before its box has finished exiting: wait that long for the exit, so the feedback says
# the app stopped rather than blaming its HTTP. Other runs are not kept waiting.
LOST_APP_SIGNS = ("could not connect to the app", "not valid HTTP", "closed the connection")
APP_EXIT_GRACE = 0.5
ARMED_WITHIN = 2.0  # a pre-started pair that does not confirm its job by then is replaced by a cold one
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
    job: str = ""  # the pair's mark (SANDBOX_JOB) on every process of its two boxes
    warm: bool = False  # the boxes were started before the answer arrived (sandbox/pool.py)
    app_armed: bool = False  # the app's box applied the limits and was about to run the answer
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
                  test_seconds: float = 5, fail_fast: bool = False, pool: WarmPool | None = None) -> ChallengeRun:
    """Grade ``solution`` against ``hidden_tests``: in a pair of boxes from ``pool`` if one is ready
    (started before this answer, never used), else in a pair started now."""
    run = ChallengeRun()
    jobs = {"app": app_job(solution, limits), "runner": runner_job(
        solution=solution, hidden_tests=hidden_tests, test_seconds=test_seconds, fail_fast=fail_fast)}
    pair = pool.take(limits, solution_bytes=len(solution.encode())) if pool is not None else None
    started = time.monotonic()
    if pair is not None and pool is not None and not pair.hand_over(**jobs, armed_within=ARMED_WITHIN):
        pool.broken(pair)  # it ended while waiting; nothing of this answer ran in it
        pair = None
    run.warm = pair is not None
    if pair is None:
        started = time.monotonic()
        pair = BoxPair(sandbox, app_limits=outer_limits(limits, solution_bytes=len(solution.encode())))
        if not pair.hand_over(**jobs, armed_within=None):
            pair.discard()
            raise OSError("the sandbox's boxes ended before they were given their job")
    run.job = pair.job
    try:
        _Supervision(run, pair.app, pair.runner, pipes=pair.pipes, limits=limits, started=started,
                     deadline=started + limits.wall_seconds).run()
        run.app_armed = pair.app_armed()
    finally:
        pair.close()
    run.wall_seconds = round(time.monotonic() - started, 3)
    return run


class _Supervision:
    def __init__(self, run: ChallengeRun, app: Box, runner: Box, *, pipes: Pipes, limits: Limits,
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

    def _exit_grace(self) -> float:
        lost = any(e.get("event") == "result" and e.get("outcome") == "error"
                   and any(sign in str(e.get("message", "")) for sign in LOST_APP_SIGNS) for e in self.run_.events)
        return APP_EXIT_GRACE if lost else 0.0

    def _stop(self) -> None:
        run = self.run_
        if not run.output_limit_exceeded and wait_readable(self.app.pidfd, self._exit_grace()):
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
