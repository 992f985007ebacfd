"""How the parts are put together: the one place that builds the grading service, for the web
app's own graders and for ``rehearse worker`` alike (features that build on a grade plug in
here, so grading never imports them)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from webapp.core.config import Settings
from webapp.core.db import Database
from webapp.grading.graders import Grader, default_graders
from webapp.grading.worker import GradedAnswer, GradingService
from webapp.integrity import checks
from webapp.practice import scheduling


def grading_service(settings: Settings, database: Database, *, concurrency: int | None = None,
                    graders: dict[str, Grader] | None = None) -> GradingService:
    """Grader threads over ``database`` with the configured graders, limits and hooks."""
    return GradingService(
        database, graders if graders is not None else default_graders(sandbox=settings.effective_sandbox),
        concurrency=settings.effective_grader_concurrency if concurrency is None else concurrency,
        lease_seconds=settings.grader_lease_seconds, poll_seconds=settings.grader_poll_seconds,
        max_attempts=settings.grader_max_attempts, on_graded=[scheduling.on_graded, _queue_similarity_check],
        warm_sandboxes=settings.sandbox_warm, idle_work=[checks.check_next],
    )


def _queue_similarity_check(db: Session, graded: GradedAnswer) -> None:
    checks.queue_check(db, submission_id=graded.submission_id, practice=graded.practice)
