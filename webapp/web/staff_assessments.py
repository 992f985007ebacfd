"""Assessments from the interviewer's side: build one, invite candidates, choose what they
see afterwards, read each candidate's report. Staff only, guarded at the router."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, HTTPException, Request
from fastapi.responses import Response

from webapp.assessments import service
from webapp.assessments.models import Assessment, CandidateFeedback
from webapp.core.db import utcnow
from webapp.core.errors import ServiceError
from webapp.mail.delivery import deliver_pending
from webapp.questions.catalogue import QuestionFilters, browse_questions
from webapp.submissions.attempts import report_rows, report_totals
from webapp.submissions.report_export import assessment_csv
from webapp.web.deps import FormDataDep, SessionDep, SettingsDep, StaffUser, smtp_server
from webapp.web.errors import http_status, redirect_to
from webapp.web.params import FormLine, FormLines, FormText, Id
from webapp.web.rendering import flash, render

router = APIRouter(prefix="/assessments")  # staff pages: guarded in web/routes.py


def owned_or_404(db: SessionDep, user: StaffUser, assessment_id: Id) -> Assessment:
    assessment = service.owned_assessment(db, assessment_id=assessment_id, viewer=user)
    if assessment is None:
        raise HTTPException(404, "There is no such assessment of yours.")
    return assessment


OwnedDep = Annotated[Assessment, Depends(owned_or_404)]


def _builder(request: Request, db: SessionDep, *, errors: dict[str, str] | None = None,
             values: dict[str, object] | None = None, status_code: int = 200) -> Response:
    questions = browse_questions(db, filters=QuestionFilters(), per_page=1000).items
    context = {"questions": questions, "errors": errors or {}, "values": values or {},
               "feedback_choices": list(CandidateFeedback)}
    return render(request, "assessments/new.html", context, status_code=status_code)


@router.get("/new")
def new_assessment(request: Request, db: SessionDep) -> Response:
    return _builder(request, db)


@router.post("/new")
def create_assessment(request: Request, db: SessionDep, user: StaffUser, data: FormDataDep, title: FormLine = "",
                      time_limit: FormLine = "", questions: FormLines = [],  # noqa: B006
                      candidate_feedback: FormLine = CandidateFeedback.score.value) -> Response:
    # Beside each question, its position in the assessment: "position-<slug>" (dynamic, so read whole).
    positions = {name.removeprefix("position-"): value for name, value in data.multi_items()
                 if name.startswith("position-") and isinstance(value, str)}
    try:
        assessment = service.create_assessment(db, owner=user, title=title, slugs=questions, minutes=time_limit,
                                               candidate_feedback=candidate_feedback, positions=positions)
    except ServiceError as exc:
        values: dict[str, object] = {"title": title, "time_limit": time_limit, "questions": questions,
                                     "candidate_feedback": candidate_feedback, "positions": positions}
        return _builder(request, db, errors=exc.errors, values=values, status_code=http_status(exc))
    flash(request, "Assessment created. Invite candidates below or share the invite code.", "success")
    return redirect_to(request, "assessment_detail", assessment_id=assessment.id)


def _detail(request: Request, assessment: Assessment, *, errors: dict[str, str] | None = None,
            status_code: int = 200, **values: str) -> Response:
    context = {"assessment": assessment, "now": utcnow(), "errors": errors or {},
               "feedback_choices": list(CandidateFeedback), **values}
    return render(request, "assessments/detail.html", context, status_code=status_code)


@router.get("/{assessment_id}")
def assessment_detail(request: Request, assessment: OwnedDep) -> Response:
    return _detail(request, assessment)


@router.post("/{assessment_id}/feedback")
def change_feedback(request: Request, db: SessionDep, user: StaffUser, assessment: OwnedDep,
                    candidate_feedback: FormLine = "") -> Response:
    try:
        service.set_candidate_feedback(db, assessment=assessment, value=candidate_feedback, actor=user)
    except ServiceError as exc:
        return _detail(request, assessment, errors=exc.errors, status_code=http_status(exc))
    flash(request, f"Saved: once the assessment ends, candidates see {assessment.candidate_feedback.label.lower()}.",
          "success")
    return redirect_to(request, "assessment_detail", assessment_id=assessment.id)


@router.post("/{assessment_id}/invite")
def invite(request: Request, db: SessionDep, settings: SettingsDep, user: StaffUser, assessment: OwnedDep,
           tasks: BackgroundTasks, emails: FormText = "") -> Response:
    try:
        invited = service.invite_by_email(db, assessment=assessment, emails=emails, actor=user,
                                          public_url=settings.public_url)
    except ServiceError as exc:
        return _detail(request, assessment, errors=exc.errors, status_code=http_status(exc), emails=emails)
    tasks.add_task(deliver_pending, request.app.state.db, server=smtp_server(settings))  # the invitations
    flash(request, f"Invited {', '.join(invited)}: each gets an email with the link.", "success")
    return redirect_to(request, "assessment_detail", assessment_id=assessment.id)


@router.get("/{assessment_id}/results.csv")
def results_csv(db: SessionDep, assessment: OwnedDep) -> Response:
    """Every invited candidate's answers, one row per question, for a spreadsheet."""
    body = assessment_csv(db, assessment=assessment, now=utcnow())
    filename = f"assessment-{assessment.id}-results.csv"
    return Response(body, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@router.get("/{assessment_id}/report/{attempt_id}")
def report(request: Request, db: SessionDep, assessment: OwnedDep, attempt_id: Id) -> Response:
    attempt = next((a for a in assessment.attempts if a.id == attempt_id), None)
    if attempt is None:
        raise HTTPException(404, "This candidate is not invited to this assessment.")
    rows = report_rows(db, attempt=attempt)
    context = {"assessment": assessment, "attempt": attempt, "rows": rows, "totals": report_totals(rows),
               "now": utcnow()}
    return render(request, "assessments/report.html", context)
