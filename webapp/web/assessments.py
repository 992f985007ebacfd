"""Assessments from the candidate's side: the list, joining with a code, taking and submitting.
(Interviewers build and follow theirs in staff_assessments.py.)"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, HTTPException, Request
from fastapi.responses import Response

from webapp.assessments import service
from webapp.assessments.models import AssessmentAttempt
from webapp.core.db import utcnow
from webapp.core.errors import ServiceError
from webapp.identity.models import Role
from webapp.integrity import signals
from webapp.submissions.attempts import last_answer_values, report_rows, report_totals
from webapp.web.deps import CurrentUser, SessionDep
from webapp.web.errors import http_status, redirect_to
from webapp.web.params import FormLine, Id, Line, Position
from webapp.web.rendering import flash, render

router = APIRouter(prefix="/assessments")


def my_attempt_or_404(db: SessionDep, user: CurrentUser, attempt_id: Id) -> AssessmentAttempt:
    attempt = service.my_attempt(db, attempt_id=attempt_id, candidate=user)
    if attempt is None:
        raise HTTPException(404, "There is no such assessment for you.")
    return attempt


AttemptDep = Annotated[AssessmentAttempt, Depends(my_attempt_or_404)]


@router.get("")
def assessment_home(request: Request, db: SessionDep, user: CurrentUser) -> Response:
    staff = user.role != Role.candidate
    context = {"attempts": service.my_attempts(db, candidate=user), "now": utcnow(),
               "assessments": service.list_assessments(db, viewer=user) if staff else [], "staff": staff}
    return render(request, "assessments/home.html", context)


@router.get("/join")
def join_form(request: Request, code: Line = "") -> Response:
    return render(request, "assessments/join.html", {"code": code, "errors": {}})


@router.post("/join")
def join(request: Request, db: SessionDep, user: CurrentUser, code: FormLine = "") -> Response:
    try:
        attempt = service.join_by_code(db, code=code, candidate=user)
    except ServiceError as exc:
        return render(request, "assessments/join.html", {"code": code, "errors": exc.errors},
                      status_code=http_status(exc))
    return redirect_to(request, "take", attempt_id=attempt.id)


@router.get("/take/{attempt_id}")
def take(request: Request, db: SessionDep, attempt: AttemptDep) -> Response:
    rows = report_rows(db, attempt=attempt)
    context = {"attempt": attempt, "rows": rows, "totals": report_totals(rows), "now": utcnow()}
    return render(request, "assessments/take.html", context)


@router.post("/take/{attempt_id}/start")
def start(request: Request, db: SessionDep, attempt: AttemptDep) -> Response:
    service.start(db, attempt=attempt)
    return redirect_to(request, "take", attempt_id=attempt.id)


@router.get("/take/{attempt_id}/questions/{position}")
def take_question(request: Request, db: SessionDep, attempt: AttemptDep,
                  position: Position) -> Response:
    item = next((i for i in attempt.assessment.items if i.position == position), None)
    if item is None or attempt.status(utcnow()) != "in progress":
        raise HTTPException(404, "This question is not open: the assessment is not in progress.")
    question = item.question
    values = last_answer_values(db, attempt_id=attempt.id, question_id=question.id)  # reopened: what was sent
    return render(request, "questions/detail.html", {"question": question, "revision": question.current_revision,
                                                     "attempt": attempt, "position": position, "values": values})


@router.post("/take/{attempt_id}/questions/{position}/signals", status_code=204)
def record_signals(request: Request, db: SessionDep, user: CurrentUser, attempt: AttemptDep, position: Position,
                   payload: Annotated[Any, Body()]) -> Response:
    """The answer page's session signals (JSON, from static/js/session_signals.js; the body's
    size is bounded by the app's BodySizeLimitMiddleware)."""
    signals.record_signals(db, attempt=attempt, user=user, position=position, payload=payload, now=utcnow())
    return Response(status_code=204)


@router.post("/take/{attempt_id}/submit")
def finish(request: Request, db: SessionDep, attempt: AttemptDep) -> Response:
    try:
        service.finish(db, attempt=attempt)
    except ServiceError as exc:
        raise HTTPException(http_status(exc), exc.errors["form"]) from None
    if attempt.assessment.kind == "mock":  # one's own practice: the scores are on the summary now
        flash(request, "Mock interview submitted: your scores and feedback are below.", "success")
        return redirect_to(request, "mock_summary", attempt_id=attempt.id)
    flash(request, "Assessment submitted. Your interviewer will review it.", "success")
    return redirect_to(request, "take", attempt_id=attempt.id)
