"""Running the room's code: either person runs the current question's code against its example
tests, the interviewer also against the hidden ones. A run is queued for the graders like Run
examples (grading/example_runs.py), so the sandbox never runs in a web request; the code is
what the server's copy of the shared document holds, never what a browser claims it holds."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from webapp.core.db import utcnow
from webapp.core.errors import Conflict, Forbidden, Invalid, RateLimited
from webapp.grading.models import ExampleRun, RunStatus
from webapp.grading.wakeup import wake_on_commit
from webapp.identity.models import User
from webapp.interviews import document
from webapp.interviews.access import runs_the_room
from webapp.interviews.models import Interview, InterviewRun
from webapp.interviews.service import current_item
from webapp.interviews.texts import text_of
from webapp.questions.kinds import QuestionKind
from webapp.questions.models import QuestionRevision

RUNS_PER_WINDOW = 30  # per interview: both people together
WINDOW = timedelta(minutes=10)
BLOCKING = timedelta(minutes=2)  # a run left queued with no grader stops blocking after this
SUITES = ("example", "hidden")


def start_run(db: Session, *, interview: Interview, user: User, suite: str) -> InterviewRun:
    """Queue a run of the current question's code; both people see it appear (a room signal)."""
    if suite not in SUITES:
        raise Invalid({"form": "There is no such set of tests: run the examples or the hidden tests."})
    if suite == "hidden" and not runs_the_room(user, interview):
        raise Forbidden({"form": "Only the interviewer can run the hidden tests."})
    if interview.is_finished:
        raise Conflict({"form": "This interview has ended: the room is read-only."})
    item = current_item(interview)
    revision = db.get(QuestionRevision, item.revision_id) if item is not None else None
    tests = (revision.hidden_tests if suite == "hidden" else revision.example_tests) if revision else ""
    if item is None or revision is None or revision.kind != QuestionKind.code or not tests.strip():
        raise Conflict({"form": f"The current question has no {suite} tests to run."})
    now = utcnow()
    runs = select(InterviewRun.run_id).where(InterviewRun.interview_id == interview.id)
    going = select(ExampleRun.id).where(ExampleRun.id.in_(runs), ExampleRun.status != RunStatus.done,
                                        ExampleRun.created_at > now - BLOCKING).limit(1)
    if db.scalar(going) is not None:
        raise Conflict({"form": "A run is still going: wait for its results, then run again."})
    recent = db.scalar(select(func.count()).select_from(InterviewRun).where(
        InterviewRun.interview_id == interview.id, InterviewRun.created_at > now - WINDOW)) or 0
    if recent >= RUNS_PER_WINDOW:
        raise RateLimited({"form": f"This room has run its code {recent} times in the last "
                                   f"{int(WINDOW.total_seconds() // 60)} minutes: wait a few minutes."})
    code = text_of(document.load_document(db, interview_id=interview.id), item.question_id)
    run = ExampleRun(user_id=user.id, revision_id=revision.id, code=code, suite=suite, kept=True, created_at=now)
    db.add(run)
    db.flush()
    row = InterviewRun(interview_id=interview.id, run_id=run.id, question_id=item.question_id,
                       requested_by_id=user.id, suite=suite, created_at=now)
    db.add(row)
    db.flush()
    wake_on_commit(db)
    document.signal(db, interview_id=interview.id, message={"type": "runs"})
    return row


def runs_of(db: Session, *, interview: Interview, viewer: User, limit: int = 50) -> Sequence[tuple[InterviewRun,
                                                                                                    ExampleRun]]:
    """The room's runs, newest first, each with its result; hidden-test runs only for the interviewer's side."""
    statement = (select(InterviewRun, ExampleRun).join(ExampleRun, ExampleRun.id == InterviewRun.run_id)
                 .where(InterviewRun.interview_id == interview.id)
                 .options(joinedload(InterviewRun.requested_by), joinedload(InterviewRun.question))
                 .order_by(InterviewRun.id.desc()).limit(limit))
    if not runs_the_room(viewer, interview):
        statement = statement.where(InterviewRun.suite == "example")
    return [(row, run) for row, run in db.execute(statement).all()]
