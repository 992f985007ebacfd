"""The graders' side of a staged import's known-solution checks (questions/staged_imports.py):
every status change of a check after it is queued happens here.

A check is claimed like an answer (the oldest queued row, ``SKIP LOCKED`` on PostgreSQL) with a
random token; its result is stored only while the token still matches. A check whose grader
stopped is put back after ``STALE`` (or given up after ``MAX_ATTEMPTS``): checks are short and
rare, so they carry no heartbeat of their own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import ColumnElement, and_, update
from sqlalchemy.orm import Session

from webapp.core.db import rows_changed, utcnow
from webapp.grading.claiming import claim_oldest
from webapp.grading.graders.base import GradingTask
from webapp.questions.kinds import QuestionKind
from webapp.questions.models import CheckStatus, SolutionCheck

STALE = timedelta(minutes=5)  # longer than the slowest allowed run (limits cap wall time at 120 s)
MAX_ATTEMPTS = 3


@dataclass(frozen=True)
class CheckClaim:
    check_id: int
    token: str
    what: str
    should_pass: bool
    task: GradingTask
    suite: str = "hidden"


def claim_next_check(db: Session) -> CheckClaim | None:
    """Take the oldest queued check, or None when there is none."""
    claimed = claim_oldest(db, SolutionCheck, queued=CheckStatus.queued, running=CheckStatus.running)
    if claimed is None:
        return None
    check_id, token = claimed
    check = db.get_one(SolutionCheck, check_id)
    task = GradingTask(kind=QuestionKind.code, code=check.code, hidden_tests=check.hidden_tests, limits=check.limits,
                       fail_fast=not check.should_pass, suite=check.suite)  # a wrong one: one failing test is enough
    return CheckClaim(check.id, token, check.what, check.should_pass, task, check.suite)


def complete_check(db: Session, *, claim: CheckClaim, score: int, problem: str | None) -> bool:
    """Store the outcome if we still hold the claim (False: it was given to another grader)."""
    return rows_changed(db, update(SolutionCheck).where(_held(claim)).values(
        status=CheckStatus.done, score=score, problem=problem, finished_at=utcnow(), claim_token=None)
        .execution_options(synchronize_session=False)) == 1


def requeue_stale_checks(db: Session) -> int:
    """Checks whose grader stopped: queued again, or done with the reason once out of attempts."""
    stale = and_(SolutionCheck.status == CheckStatus.running, SolutionCheck.claimed_at < utcnow() - STALE)
    given_up = rows_changed(db, update(SolutionCheck).where(stale, SolutionCheck.attempts >= MAX_ATTEMPTS).values(
        status=CheckStatus.done, claim_token=None, finished_at=utcnow(),
        problem=SolutionCheck.what + " could not be graded: its grader stopped each time it was tried.")
        .execution_options(synchronize_session=False))
    requeued = rows_changed(db, update(SolutionCheck).where(stale).values(status=CheckStatus.queued, claim_token=None)
                            .execution_options(synchronize_session=False))
    return given_up + requeued


def _held(claim: CheckClaim) -> ColumnElement[bool]:
    return and_(SolutionCheck.id == claim.check_id, SolutionCheck.status == CheckStatus.running,
                SolutionCheck.claim_token == claim.token)
