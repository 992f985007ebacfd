"""The two boxes of one code challenge, started before their job is known, and used once.

A pair is the app's box and the runner's box with everything between them: the listening
socket (in a fresh 0711 directory; the app box gets the descriptor, the runner box the
path), the status, report and go pipes, and one *job channel* per box (a socketpair only the
grader and that box hold). Each box starts a trusted program (``inside/app_host.py``,
``inside/test_runner.py``) that imports what it needs, says ``warm`` on its channel and
waits. The job then arrives as a memfd passed over the channel (SCM_RIGHTS): the
candidate's solution and limits for the app's box, the hidden tests for the runner's. Each
box says ``armed`` (limits applied, job read) and closes its channel before anything of
the job runs. Cold runs use the same pair, handed its job as soon as it starts.

Nothing is ever handed to a pair twice: ``hand_over`` refuses a second job, and the pair's
boxes are killed once the run ends (``sandbox/challenge.py``) or when it is discarded.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import selectors
import socket
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from webapp.grading.sandbox.boxes import Box, Program, Sandbox
from webapp.grading.sandbox.limits import RUNNER_LIMITS, Limits
from webapp.grading.sandbox.linux import memfd, new_job_id

INSIDE = Path(__file__).with_name("inside")
APP_HOST = (INSIDE / "app_host.py").read_bytes()
TEST_RUNNER = (INSIDE / "test_runner.py").read_bytes()
# CPU the programs in the boxes may use before their job: the outer RLIMIT_CPU leaves room for it,
# and the app's host lowers the limit to (CPU used so far + the question's cpu_seconds).
STARTUP_CPU = 10
# The most a pre-started app box can be given: its outer limits, lowered to the question's by the
# box's host program before the candidate's code runs. The tmpfs size is fixed when the box starts,
# so a pre-started box takes only questions whose work dir is the size it has (file_size_mb <= 4).
WARM_CEILING = Limits(cpu_seconds=60, wall_seconds=120, memory_mb=4096, processes=512, file_size_mb=4,
                      open_files=256)
WARM, ARMED = b"warm\n", b"armed\n"


def outer_limits(limits: Limits, *, solution_bytes: int = 0) -> Limits:
    """A box's limits as started: the question's, with room for start-up CPU and for writing the
    solution file; the host program inside lowers them to the question's before running it."""
    file_size = max(limits.file_size_mb, math.ceil(solution_bytes / (1 << 20)))
    return dataclasses.replace(limits, cpu_seconds=limits.cpu_seconds + STARTUP_CPU, file_size_mb=file_size)


def fits_warm_box(limits: Limits, *, solution_bytes: int) -> bool:
    """Whether a box started with WARM_CEILING can be lowered to ``limits``."""
    ceiling = WARM_CEILING
    return (limits.cpu_seconds <= ceiling.cpu_seconds and limits.memory_mb <= ceiling.memory_mb
            and limits.processes <= ceiling.processes and limits.open_files <= ceiling.open_files
            and limits.file_size_mb <= ceiling.file_size_mb and limits.work_dir_bytes == ceiling.work_dir_bytes
            and solution_bytes <= ceiling.file_size_mb << 20)


def app_job(solution: str, limits: Limits) -> bytes:
    """What the app's box is told: the candidate's files and the limits to apply, nothing else."""
    return json.dumps({"solution": solution, "limits": {
        "cpu_seconds": limits.cpu_seconds, "memory_bytes": limits.memory_mb << 20,
        "file_size_bytes": limits.file_size_mb << 20, "open_files": limits.open_files,
        "processes": limits.processes}}).encode()


def runner_job(*, solution: str, hidden_tests: str, test_seconds: float, fail_fast: bool) -> bytes:
    return json.dumps({"hidden_tests": hidden_tests, "solution": solution, "test_seconds": test_seconds,
                       "fail_fast": fail_fast}).encode()


class Pipes:
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


class _Channel:
    """The grader's end of one box's job channel, and what that box has said on it."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock, self.heard = sock, b""

    def hear(self) -> bool:
        """Read what is there without blocking; False once the box closed its end (or broke the protocol)."""
        try:
            chunk = self.sock.recv(64, socket.MSG_DONTWAIT)
        except BlockingIOError:
            return True
        except OSError:
            return False
        self.heard += chunk
        return bool(chunk) and len(self.heard) <= len(WARM + ARMED)


class BoxPair:
    """Both boxes of one run, started now, waiting for their one job."""

    def __init__(self, sandbox: Sandbox, *, app_limits: Limits) -> None:
        self.job = new_job_id()
        self.born = time.monotonic()
        self.on_closed: Callable[[], None] | None = None  # the pool counts pairs on loan
        self._handed = self._closed = False
        self._dir = tempfile.TemporaryDirectory(prefix="rehearse-socket-")
        self.boxes: list[Box] = []
        self.pipes = Pipes()
        app_end, self._app_box_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        runner_end, self._runner_box_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        self.channels = (_Channel(app_end), _Channel(runner_end))
        try:
            os.chmod(self._dir.name, 0o711)  # the runner's uid must reach the socket; nobody may list the dir
            path = os.path.join(self._dir.name, "app.sock")
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener:
                listener.bind(path)
                listener.listen(128)
                os.chmod(path, 0o666)
                # Closed when this block ends: the app holds the only listening descriptor, so
                # if it dies, connecting fails at once.
                self._start(sandbox, listener.fileno(), path, app_limits)
        except BaseException:
            self.discard()
            raise
        finally:
            self.pipes.close_child_ends()
            self._app_box_end.close()
            self._runner_box_end.close()

    def _start(self, sandbox: Sandbox, listen_fd: int, path: str, app_limits: Limits) -> None:
        app_channel, runner_channel = self._app_box_end.fileno(), self._runner_box_end.fileno()
        self.boxes.append(sandbox.start(Program(
            entry="app_host.py", files={"app_host.py": APP_HOST}, limits=app_limits, job=self.job,
            pass_fds=(listen_fd, self.pipes.status_w, app_channel),
            args=["--listen-fd", str(listen_fd), "--status-fd", str(self.pipes.status_w),
                  "--job-fd", str(app_channel)])))
        self.boxes.append(sandbox.start(Program(
            entry="test_runner.py", files={"test_runner.py": TEST_RUNNER}, limits=RUNNER_LIMITS, job=self.job,
            pass_fds=(runner_channel, self.pipes.go_r, self.pipes.report_w), binds={"app.sock": path},
            args=["--job-fd", str(runner_channel), "--go-fd", str(self.pipes.go_r), "--report-fd",
                  str(self.pipes.report_w), "--socket", "app.sock"])))

    @property
    def app(self) -> Box:
        return self.boxes[0]

    @property
    def runner(self) -> Box:
        return self.boxes[1]

    # waiting -----------------------------------------------------------------
    def watched_fds(self) -> list[int]:
        """What the pool selects on: the channels, and the boxes' exits."""
        return [c.sock.fileno() for c in self.channels] + [box.pidfd for box in self.boxes]

    def hear(self) -> bool:
        """Read what the boxes said; False when either one ended, closed its channel or said something else."""
        alive = all(channel.hear() for channel in self.channels)
        said = all(WARM.startswith(c.heard) for c in self.channels)
        return alive and said and not any(_ended(box) for box in self.boxes)

    @property
    def warm(self) -> bool:
        return all(channel.heard == WARM for channel in self.channels)

    # the one job -------------------------------------------------------------
    def hand_over(self, *, app: bytes, runner: bytes, armed_within: float | None) -> bool:
        """Give each box its job. With ``armed_within`` (a pre-started pair), wait that long for both
        boxes to confirm, so that a pair that broke while waiting can be replaced by a cold one;
        False then (nothing of the job has run: the app's box confirms before it runs anything)."""
        if self._handed or self._closed:
            raise RuntimeError("a pair of boxes is used for one job only")
        self._handed = True
        try:
            for channel, data in zip(self.channels, (app, runner), strict=True):
                job = memfd(data)
                try:
                    socket.send_fds(channel.sock, [b"job\n"], [job])
                finally:
                    os.close(job)
        except OSError:
            return False
        if armed_within is None:
            return True
        deadline = time.monotonic() + armed_within
        while waiting := [c for c in self.channels if not c.heard.endswith(ARMED)]:
            left = deadline - time.monotonic()
            if left <= 0 or not _readable([c.sock.fileno() for c in waiting], left):
                return False
            if not all(channel.hear() for channel in waiting):
                return False
        return True

    def app_armed(self) -> bool:
        """Whether the app's box confirmed its job (read once the run is over: everything it said is there)."""
        channel = self.channels[0]
        while not channel.heard.endswith(ARMED):
            before = len(channel.heard)
            if not channel.hear() or len(channel.heard) == before:
                break
        return channel.heard.endswith(ARMED)

    # the end -----------------------------------------------------------------
    def discard(self) -> None:
        """Kill both boxes and release everything (for a pair whose run never started)."""
        for box in self.boxes:
            box.kill()
        for box in self.boxes:
            if box.returncode is None:
                box.finish()
        self.pipes.close()
        self.close()

    def close(self) -> None:
        """Release the channels and the socket's directory (the boxes are finished by then)."""
        if self._closed:
            return
        self._closed = True
        for channel in self.channels:
            channel.sock.close()
        self._dir.cleanup()
        if self.on_closed is not None:
            self.on_closed()


def _ended(box: Box) -> bool:
    return box.returncode is not None or _readable([box.pidfd], 0)


def _readable(fds: list[int], timeout: float) -> bool:
    with selectors.DefaultSelector() as selector:
        for fd in fds:
            selector.register(fd, selectors.EVENT_READ)
        return bool(selector.select(timeout))


def describe(pair: BoxPair) -> dict[str, Any]:
    """For logs and tests: which job, how old, what each box said."""
    return {"job": pair.job, "age": round(time.monotonic() - pair.born, 3),
            "heard": [c.heard.decode(errors="replace") for c in pair.channels]}
