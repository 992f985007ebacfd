"""The grading queue is the submissions table.

A job is claimed atomically (PostgreSQL: ``FOR UPDATE SKIP LOCKED``; SQLite: a single
``UPDATE … RETURNING`` inside ``BEGIN IMMEDIATE``) and held by a lease: a random token
plus an expiry that heartbeats extend. A result is stored only while the token still
matches, so a worker that lost its lease (too slow, or presumed dead) cannot overwrite
or duplicate the grade of the worker that took over. Expired leases go back to the queue
until the attempts run out; then the submission is failed with the error kept.

Every change of a submission's grading status happens here: queueing a new answer, claiming,
completing, failing, requeueing expired leases, and an admin's requeue or regrade. Each one
that queues work wakes the graders when its transaction commits (``wakeup.wake_on_commit``).
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, Executable, and_, select, update
from sqlalchemy.orm import Session

from webapp.audit.service import Actor, record_event
from webapp.core.db import utcnow
from webapp.grading.wakeup import wake_on_commit
from webapp.questions.models import QuestionRevision
from webapp.submissions.models import Submission, SubmissionStatus

QUEUED, RUNNING = SubmissionStatus.queued, SubmissionStatus.running


def enqueue(db: Session, *, submission: Submission) -> Submission:
    """Queue a new answer for grading; graders wake when the transaction commits."""
    submission.status = QUEUED
    db.add(submission)
    db.flush()
    wake_on_commit(db)
    return submission


@dataclass(frozen=True)
class Claim:
    submission_id: int
    token: str
    attempt: int


def claim_next_job(db: Session, *, worker: str, kinds: Sequence[str], lease: timedelta) -> Claim | None:
    """Take the oldest queued submission of the given kinds, or None when there is none."""
    if not kinds:
        return None
    oldest = (
        select(Submission.id)
        .where(Submission.status == QUEUED, Submission.kind.in_(kinds))
        .order_by(Submission.queued_at, Submission.id)
        .limit(1)
    )
    if db.get_bind().dialect.name == "postgresql":
        oldest = oldest.with_for_update(skip_locked=True)
    now, token = utcnow(), secrets.token_hex(16)
    row = db.execute(
        update(Submission)
        .where(Submission.id == oldest.scalar_subquery(), Submission.status == QUEUED)
        .values(status=RUNNING, lease_token=token, lease_owner=worker[:120], lease_expires_at=now + lease,
                started_at=now, attempts=Submission.attempts + 1)
        .returning(Submission.id, Submission.attempts)
        .execution_options(synchronize_session=False)
    ).first()
    return Claim(row.id, token, row.attempts) if row else None


def _held(claim: Claim) -> ColumnElement[bool]:
    return and_(Submission.id == claim.submission_id, Submission.status == RUNNING,
                Submission.lease_token == claim.token)


def _changed(db: Session, statement: Executable) -> int:
    """Run an UPDATE and say how many rows it changed (an UPDATE's result is always a CursorResult)."""
    return cast(CursorResult[Any], db.execute(statement)).rowcount


def extend_leases(db: Session, *, claims: Sequence[Claim], lease: timedelta) -> int:
    """Heartbeat: push the expiry of the leases we still hold."""
    extended = 0
    for claim in claims:
        extended += _changed(db, update(Submission).where(_held(claim)).values(lease_expires_at=utcnow() + lease)
                             .execution_options(synchronize_session=False))
    return extended


def complete_job(
    db: Session, *, claim: Claim, score: int, feedback: dict[str, Any], grader: str, grader_version: str
) -> bool:
    """Store the grade if we still hold the lease; False means another worker owns the job now."""
    changed = _changed(
        db,
        update(Submission).where(_held(claim))
        .values(status=SubmissionStatus.graded, score=score, feedback=feedback, grader=grader,
                provisional=bool(feedback.get("provisional")),
                grader_version=grader_version, finished_at=utcnow(), lease_token=None, lease_expires_at=None,
                error="")
        .execution_options(synchronize_session=False)
    )
    return changed == 1


def fail_job(db: Session, *, claim: Claim, error: str, max_attempts: int) -> SubmissionStatus | None:
    """Record a grader error: back to the queue for another try, or failed for good."""
    final = claim.attempt >= max_attempts
    values: dict[str, Any] = {"error": error[:4000], "lease_token": None, "lease_expires_at": None}
    values["status"] = SubmissionStatus.failed if final else QUEUED
    if final:
        values["finished_at"] = utcnow()
    changed = _changed(db, update(Submission).where(_held(claim)).values(**values)
                       .execution_options(synchronize_session=False))
    if changed and not final:
        wake_on_commit(db)
    return values["status"] if changed else None


def requeue_expired_leases(db: Session, *, max_attempts: int) -> tuple[int, int]:
    """Jobs whose worker stopped heartbeating: retried, or failed when out of attempts."""
    now = utcnow()
    expired = and_(Submission.status == RUNNING, Submission.lease_expires_at < now)
    failed = _changed(
        db,
        update(Submission).where(expired, Submission.attempts >= max_attempts)
        .values(status=SubmissionStatus.failed, finished_at=now, lease_token=None, lease_expires_at=None,
                error="The grader stopped responding (worker lost or too slow) on every attempt.")
        .execution_options(synchronize_session=False)
    )
    requeued = _changed(
        db,
        update(Submission).where(expired)
        .values(status=QUEUED, lease_token=None, lease_expires_at=None,
                error="A grader stopped responding; the submission was queued again.")
        .execution_options(synchronize_session=False)
    )
    if requeued:
        wake_on_commit(db)
    return requeued, failed


_REQUEUE = {"status": SubmissionStatus.queued, "attempts": 0, "lease_token": None, "lease_expires_at": None,
            "started_at": None, "finished_at": None}


def requeue_failed(db: Session, *, actor: Actor, submission_id: int | None = None) -> int:
    """Queue failed submissions (one, or all) for a fresh set of attempts."""
    statement = update(Submission).where(Submission.status == SubmissionStatus.failed)
    if submission_id is not None:
        statement = statement.where(Submission.id == submission_id)
    count = _changed(db, statement.values(**_REQUEUE).execution_options(synchronize_session=False))
    wake_on_commit(db)
    record_event(db, actor=actor, action="queue.requeued", target=f"submission:{submission_id or 'all-failed'}",
                 summary=f"{count} failed submission(s) queued again")
    return count


def regrade_revision(db: Session, *, revision: QuestionRevision, actor: Actor) -> int:
    """Queue every finished submission of a revision again; old grades stay until replaced."""
    count = _changed(
        db,
        update(Submission).where(Submission.revision_id == revision.id,
                                 Submission.status.in_([SubmissionStatus.graded, SubmissionStatus.failed]))
        .values(**_REQUEUE).execution_options(synchronize_session=False)
    )
    wake_on_commit(db)
    record_event(db, actor=actor, action="queue.regraded", target=f"revision:{revision.id}",
                 summary=f"{count} submission(s) of “{revision.title}” (revision {revision.number}) "
                         "queued for regrading",
                 details={"question_id": revision.question_id, "count": count})
    return count
