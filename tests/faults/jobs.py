"""Catching a grader process with a job in hand, for tests that interrupt it there."""

from __future__ import annotations

import signal
import subprocess

from sqlalchemy import Engine, func, select

from tests.helpers import wait_for
from webapp.submissions.models import Submission, SubmissionStatus


def jobs_held_by(engine: Engine, pid: int) -> set[int]:
    """The submissions the grader process ``pid`` is grading now (its name is ``host:pid:random``)."""
    with engine.connect() as connection:
        return set(connection.scalars(select(Submission.id).where(
            Submission.status == SubmissionStatus.running, Submission.lease_owner.like(f"%:{pid}:%"))))


def freeze_with_a_job_in_hand(process: subprocess.Popen[bytes], engine: Engine, *, timeout: float = 30) -> set[int]:
    """SIGSTOP ``process`` at a moment it holds a job, and return the jobs it holds. Frozen first, then
    looked at: no job can finish between the look and whatever the test does next."""

    def frozen_mid_job() -> set[int]:
        if not jobs_held_by(engine, process.pid):
            return set()
        process.send_signal(signal.SIGSTOP)
        held = jobs_held_by(engine, process.pid)
        if not held:
            process.send_signal(signal.SIGCONT)
        return held

    return wait_for(frozen_mid_job, timeout=timeout, interval=0.002, message=f"process {process.pid} mid-job")


def graded_count(engine: Engine) -> int:
    with engine.connect() as connection:
        return connection.scalar(select(func.count()).select_from(Submission)
                                 .where(Submission.status == SubmissionStatus.graded)) or 0
