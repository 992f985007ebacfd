"""/admin/calibration: agreement between the text grader and interviewers, per question and point."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

from webapp.core.errors import ServiceError
from webapp.questions.models import Question
from webapp.review import calibration
from webapp.web.deps import AdminUser, SessionDep
from webapp.web.errors import http_status, redirect_to
from webapp.web.params import FormId, Id
from webapp.web.rendering import flash, render

router = APIRouter(prefix="/admin/calibration")


@router.get("")
def calibration_overview(request: Request, db: SessionDep) -> Response:
    return render(request, "admin/calibration.html", {"questions": calibration.calibration(db)})


@router.get("/{question_id}")
def calibration_question(request: Request, db: SessionDep, question_id: Id) -> Response:
    question = db.get(Question, question_id)
    if question is None:
        raise HTTPException(404, "There is no such question.")
    found = calibration.calibration(db, question_id=question_id)
    return render(request, "admin/calibration_question.html",
                  {"question": question, "entry": found[0] if found else None})


@router.post("/examples")
def add_example(request: Request, db: SessionDep, admin: AdminUser, submission_id: FormId) -> Response:
    try:
        question = calibration.add_calibration_example(db, submission_id=submission_id, actor=admin)
    except ServiceError as exc:
        raise HTTPException(http_status(exc), exc.message) from None
    flash(request, f"Answer {submission_id} is now a calibration example of “{question.title}” (revision "
                   f"{question.revision.number}).", "success")
    return redirect_to(request, "calibration_question", question_id=question.id)
