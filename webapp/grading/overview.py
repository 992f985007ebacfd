"""What the admin queue page shows: counts, the oldest wait, live graders and failures (read only)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session, joinedload

from webapp.core.db import utcnow
from webapp.grading.models import GraderWorker
from webapp.grading.worker_presence import RECENT
from webapp.submissions.models import Submission, SubmissionStatus

WORKERS_SHOWN_FOR = timedelta(hours=1)


@dataclass
class QueueOverview:
    counts: dict[str, int]  # queued, running, failed: all of them; graded: in the last 24 hours
    oldest_queued_at: datetime | None
    graded_last_hour: int
    workers: Sequence[GraderWorker]
    failed: Sequence[Submission]
    now: datetime

    def is_alive(self, worker: GraderWorker) -> bool:
        return worker.last_heartbeat > self.now - RECENT


def queue_overview(db: Session, *, failed_limit: int = 50) -> QueueOverview:
    now = utcnow()
    # Each count is an index range (status, …): the cost follows the queue, not the history.
    counts = {status.value: _count(db, Submission.status == status)
              for status in (SubmissionStatus.queued, SubmissionStatus.running, SubmissionStatus.failed)}
    counts["graded"] = _count(db, Submission.status == SubmissionStatus.graded,
                              Submission.finished_at > now - timedelta(hours=24))
    oldest = db.scalar(select(func.min(Submission.queued_at)).where(Submission.status == SubmissionStatus.queued))
    graded = _count(db, Submission.status == SubmissionStatus.graded, Submission.finished_at > now - timedelta(hours=1))
    workers = db.scalars(select(GraderWorker).where(GraderWorker.last_heartbeat > now - WORKERS_SHOWN_FOR)
                         .order_by(GraderWorker.last_heartbeat.desc())).all()
    failed = db.scalars(select(Submission).where(Submission.status == SubmissionStatus.failed)
                        .options(joinedload(Submission.question), joinedload(Submission.user))
                        .order_by(Submission.finished_at.desc()).limit(failed_limit)).all()
    return QueueOverview(counts, oldest, graded, workers, failed, now)


def _count(db: Session, *conditions: ColumnElement[bool]) -> int:
    return db.scalar(select(func.count()).select_from(Submission).where(*conditions)) or 0


def regrade_count(db: Session, *, revision_id: int) -> int:
    return db.scalar(select(func.count()).select_from(Submission).where(
        Submission.revision_id == revision_id, Submission.status.in_([SubmissionStatus.graded,
                                                                        SubmissionStatus.failed]))) or 0
