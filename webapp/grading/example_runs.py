"""The graders' side of Run examples (practice/example_runs.py queues them): every status change
of a run after it is queued happens here.

A run is claimed like a staged import's check (the oldest queued row, ``SKIP LOCKED`` on
PostgreSQL, a random token) and its result stored only while the token still matches. Runs are
short (a few example tests), so instead of a heartbeat a stopped grader's run is queued again
after ``STALE``, and given up after ``MAX_ATTEMPTS``. A run is not an answer: rows go after
``KEPT``, code and all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, update
from sqlalchemy.orm import Session

from webapp.core.db import rows_changed, utcnow
from webapp.grading.claiming import claim_oldest
from webapp.grading.graders.base import GradingTask
from webapp.grading.models import ExampleRun, RunStatus
from webapp.questions.kinds import QuestionKind
from webapp.questions.models import QuestionRevision

STALE = timedelta(minutes=5)  # longer than the slowest allowed run (limits cap wall time at 120 s)
MAX_ATTEMPTS = 2
KEPT = timedelta(days=1)


@dataclass(frozen=True)
class RunClaim:
    run_id: int
    token: str
    task: GradingTask


def claim_next_run(db: Session) -> RunClaim | None:
    """Take the oldest queued run, or None when there is none."""
    claimed = claim_oldest(db, ExampleRun, queued=RunStatus.queued, running=RunStatus.running)
    if claimed is None:
        return None
    run_id, token = claimed
    run = db.get_one(ExampleRun, run_id)
    revision = db.get_one(QuestionRevision, run.revision_id)
    # A practice run's tests' box gets only the example tests; the hidden ones only for an
    # interviewer's run in a live interview (interviews/runs.py), whose result only they see.
    tests = revision.hidden_tests if run.suite == "hidden" else revision.example_tests
    task = GradingTask(kind=QuestionKind.code, code=run.code, hidden_tests=tests,
                       limits=revision.limits, suite="hidden" if run.suite == "hidden" else "example")
    return RunClaim(run.id, token, task)


def complete_run(db: Session, *, claim: RunClaim, result: dict[str, Any]) -> bool:
    """Store the outcome if we still hold the claim (False: it was given to another grader)."""
    return rows_changed(db, update(ExampleRun).where(_held(claim)).values(
        status=RunStatus.done, result=result, finished_at=utcnow(), claim_token=None)
        .execution_options(synchronize_session=False)) == 1


def sweep_runs(db: Session) -> int:
    """Runs whose grader stopped go back in the queue (or are given up), and old runs are deleted."""
    now = utcnow()
    stale = and_(ExampleRun.status == RunStatus.running, ExampleRun.claimed_at < now - STALE)
    problem = {"problem": "The run could not finish: its grader stopped each time it was tried. Run it again."}
    changed = rows_changed(db, update(ExampleRun).where(stale, ExampleRun.attempts >= MAX_ATTEMPTS).values(
        status=RunStatus.done, claim_token=None, finished_at=now, result=problem)
        .execution_options(synchronize_session=False))
    changed += rows_changed(db, update(ExampleRun).where(stale).values(status=RunStatus.queued, claim_token=None)
                            .execution_options(synchronize_session=False))
    changed += rows_changed(db, delete(ExampleRun).where(ExampleRun.created_at < now - KEPT, ExampleRun.kept.is_(False))
                            .execution_options(synchronize_session=False))
    return changed


def _held(claim: RunClaim) -> ColumnElement[bool]:
    return and_(ExampleRun.id == claim.run_id, ExampleRun.status == RunStatus.running,
                ExampleRun.claim_token == claim.token)
