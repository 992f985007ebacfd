"""Run examples: a candidate's code against a question's visible example tests, before they
submit. A run is queued for the graders (grading/example_runs.py) so the sandbox never runs in a
web request; it is not an answer (no score is kept, nothing counts towards progress) and the
hidden tests are never part of it."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from webapp.core.errors import Conflict, NotFound, RateLimited
from webapp.grading.models import ExampleRun, RunStatus
from webapp.grading.wakeup import wake_on_commit
from webapp.identity.models import User
from webapp.questions.kinds import QuestionKind
from webapp.questions.models import Question, QuestionRevision
from webapp.submissions.service import AnswerInput, code_answer

RUNS_PER_WINDOW = 20
WINDOW = timedelta(minutes=10)
BLOCKING = timedelta(minutes=2)


def start_run(db: Session, *, user: User, question: Question, code: AnswerInput, max_bytes: int,
              now: datetime) -> ExampleRun:
    """Queue a run of ``code`` (pasted or uploaded) against the question's example tests."""
    revision = question.current_revision
    if revision is None or revision.kind != QuestionKind.code or not revision.example_tests.strip():
        raise NotFound({"form": "This question has no examples to run."})
    mine = select(ExampleRun).where(ExampleRun.user_id == user.id)
    # One at a time (a run left queued with no grader stops blocking after a while).
    going = mine.where(ExampleRun.status != RunStatus.done, ExampleRun.created_at > now - BLOCKING)
    if db.scalar(going.limit(1)) is not None:
        raise Conflict({"form": "Your last run is still going: wait for its results, then run again."})
    recent = db.scalar(select(func.count()).select_from(mine.where(ExampleRun.created_at > now - WINDOW).subquery()))
    if (recent or 0) >= RUNS_PER_WINDOW:
        minutes = int(WINDOW.total_seconds() // 60)
        raise RateLimited({"form": f"You have run the examples {recent} times in the last {minutes} minutes. "
                                   "Read the last results, change your code, and try again in a few minutes."})
    text = code_answer(code, allowed=revision.allowed_extensions, max_bytes=max_bytes)
    run = ExampleRun(user_id=user.id, revision_id=revision.id, code=text.text, created_at=now)
    db.add(run)
    db.flush()
    wake_on_commit(db)
    return run


def my_run(db: Session, *, user: User, question: Question, run_id: int) -> ExampleRun | None:
    """The run if it is this user's and of this question (others' runs are not found)."""
    run = db.get(ExampleRun, run_id)
    if run is None or run.user_id != user.id:
        return None
    revision = db.get(QuestionRevision, run.revision_id)
    return run if revision is not None and revision.question_id == question.id else None
