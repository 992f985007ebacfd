"""Which graders are alive: those that sent a heartbeat recently."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.core.db import utcnow
from webapp.grading.models import GraderWorker

RECENT = timedelta(minutes=2)


def grading_available_for(db: Session, *, kind: str) -> bool:
    """Whether some grader process seen recently grades this kind of question."""
    since = utcnow() - RECENT
    workers = db.scalars(select(GraderWorker).where(GraderWorker.last_heartbeat > since))
    return any(kind in worker.kinds for worker in workers)
