"""One program in one box, run to its end: the start-up probe, and the sandbox's own tests
of each limit. (Code challenges use two boxes: sandbox/challenge.py.)"""

from __future__ import annotations

import signal
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from webapp.grading.sandbox.boxes import Program, Sandbox
from webapp.grading.sandbox.limits import Limits
from webapp.grading.sandbox.linux import new_job_id
from webapp.grading.sandbox.watch import Watcher

LAUNCH = (Path(__file__).with_name("inside") / "launch.py").read_bytes()
MEMORY_SIGNS = ("MemoryError", "Cannot allocate memory", "out of memory")


@dataclass(frozen=True)
class ProgramResult:
    exit_code: int | None  # None when the program was killed by a signal
    signal: int | None
    timed_out: bool
    stdout: str
    stderr: str
    output_limit_exceeded: bool
    wall_seconds: float

    @property
    def memory_limit_hit(self) -> bool:
        return any(sign in self.stderr for sign in MEMORY_SIGNS)


def run_program(sandbox: Sandbox, *, source: str, limits: Limits,
                files: Mapping[str, str] | None = None) -> ProgramResult:
    """Run ``source`` as main.py (with ``files`` beside it) until it ends or a limit stops it."""
    started = time.monotonic()
    box = sandbox.start(Program(entry="launch.py", limits=limits, job=new_job_id(), files={
        "launch.py": LAUNCH, "main.py": source.encode(), **{k: v.encode() for k, v in (files or {}).items()}}))
    watch, state = Watcher(), {"exited": False, "over": False}

    def overflowed() -> None:
        state["over"] = True
        box.kill()

    out = watch.read(box.stdout, limits.output_bytes, on_overflow=overflowed)
    err = watch.read(box.stderr, limits.output_bytes, on_overflow=overflowed)
    watch.on_exit(box.pidfd, lambda: state.update(exited=True))
    finished = watch.run(until=lambda: bool(state["exited"]), deadline=started + limits.wall_seconds)
    box.kill()
    watch.drain({out.fd, err.fd}, 0.5)
    watch.close()
    code = box.finish()
    exit_code, sig = (None, -code) if code < 0 else (code, None)
    if sandbox.mode == "bwrap" and exit_code and 128 < exit_code < 160:
        sig, exit_code = exit_code - 128, None  # bwrap reports a command killed by signal N as 128+N
    if state["over"] or not finished:
        sig = sig or signal.SIGKILL
    return ProgramResult(exit_code=exit_code, signal=sig, timed_out=not finished, stdout=out.text(),
                         stderr=err.text(), output_limit_exceeded=bool(state["over"]),
                         wall_seconds=round(time.monotonic() - started, 3))
