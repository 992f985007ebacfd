"""Assessments from the interviewer's side: build one, invite candidates, choose what they
see afterwards, read each candidate's report. Staff only, guarded at the router."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, Form, HTTPException, Query, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from webapp.assessments import service
from webapp.assessments.models import Assessment, AssessmentAttempt, CandidateFeedback
from webapp.assessments.picking import PickerFilters, chosen_questions, picker_step
from webapp.core.db import utcnow
from webapp.core.errors import ServiceError
from webapp.integrity.evidence import comparison, report_evidence
from webapp.mail.delivery import deliver_pending
from webapp.questions.catalogue import browse_questions
from webapp.submissions.attempts import report_rows, report_totals
from webapp.submissions.report_export import assessment_csv
from webapp.web.deps import FormDataDep, SessionDep, SettingsDep, StaffUser, smtp_server
from webapp.web.errors import http_status, redirect_to
from webapp.web.params import FormLine, FormLines, FormText, Id, PageNumber
from webapp.web.rendering import flash, render

router = APIRouter(prefix="/assessments")  # staff pages: guarded in web/routes.py


def owned_or_404(db: SessionDep, user: StaffUser, assessment_id: Id) -> Assessment:
    assessment = service.owned_assessment(db, assessment_id=assessment_id, viewer=user)
    if assessment is None:
        raise HTTPException(404, "There is no such assessment of yours.")
    return assessment


OwnedDep = Annotated[Assessment, Depends(owned_or_404)]
FormPage = Annotated[PageNumber | None, Form()]


def _positions(data: FormData) -> dict[str, str]:
    # Beside each question, its position in the assessment: "position-<slug>" (dynamic, so read whole).
    return {name.removeprefix("position-"): value for name, value in data.multi_items()
            if name.startswith("position-") and isinstance(value, str)}


def picker_form(q: FormLine = "", topic: FormLine = "", difficulty: FormLine = "", kind: FormLine = "",
                page: FormPage = None, results_page: FormPage = None) -> PickerFilters:
    """The picker's search as the builder's form sends it: Search, Previous and Next send the page
    they go to; any other button stays on the page shown (``results_page``)."""
    return PickerFilters(q=q, topic=topic, difficulty=difficulty, kind=kind, page=page or results_page or 1)


PickerFormDep = Annotated[PickerFilters, Depends(picker_form)]
PickerQueryDep = Annotated[PickerFilters, Query()]


def _builder(request: Request, db: SessionDep, *, filters: PickerFilters, chosen: list[str] | None = None,
             positions: dict[str, str] | None = None, errors: dict[str, str] | None = None,
             values: dict[str, str] | None = None, status_code: int = 200, block: str | None = None) -> Response:
    # One page of the bank and the chosen questions by slug: the page costs the same at any bank size.
    results = browse_questions(db, filters=filters.for_catalogue())
    listed = chosen_questions(db, slugs=chosen or [], positions=positions or {})
    context = {"results": results, "filters": filters, "chosen": listed, "chosen_slugs": {c.slug for c in listed},
               "errors": errors or {}, "values": values or {}, "feedback_choices": list(CandidateFeedback)}
    return render(request, "assessments/new.html", context, status_code=status_code, block=block)


@router.get("/new")
def new_assessment(request: Request, db: SessionDep, filters: PickerQueryDep) -> Response:
    return _builder(request, db, filters=filters)


@router.get("/new/questions")
def picker_results(request: Request, db: SessionDep, filters: PickerQueryDep) -> Response:
    """One page of the picker's matches: the results block for htmx, else the whole builder."""
    return _builder(request, db, filters=filters, block="picker_results")


@router.post("/new/picker")
def builder_step(request: Request, db: SessionDep, data: FormDataDep, filters: PickerFormDep, title: FormLine = "",
                 time_limit: FormLine = "", questions: FormLines = [],  # noqa: B006
                 candidate_feedback: FormLine = CandidateFeedback.score.value, add: FormLine = "",
                 remove: FormLine = "", up: FormLine = "", down: FormLine = "") -> Response:
    """The builder without JavaScript: Search, Previous, Next, Add, Remove, ↑ and ↓ post the whole
    form here (a GET would carry its CSRF token into the address bar and the logs), and it comes
    back with that step taken and everything typed kept. Nothing is saved."""
    step = picker_step(slugs=questions, positions=_positions(data), add=add, remove=remove, up=up, down=down)
    values = {"title": title, "time_limit": time_limit, "candidate_feedback": candidate_feedback}
    return _builder(request, db, filters=filters, chosen=step.slugs, positions=step.positions, errors=step.errors,
                    values=values)


@router.post("/new")
def create_assessment(request: Request, db: SessionDep, user: StaffUser, data: FormDataDep, filters: PickerFormDep,
                      title: FormLine = "", time_limit: FormLine = "", questions: FormLines = [],  # noqa: B006
                      candidate_feedback: FormLine = CandidateFeedback.score.value) -> Response:
    positions = _positions(data)
    try:
        assessment = service.create_assessment(db, owner=user, title=title, slugs=questions, minutes=time_limit,
                                               candidate_feedback=candidate_feedback, positions=positions)
    except ServiceError as exc:  # the chosen questions come back as listed, with what was typed
        values = {"title": title, "time_limit": time_limit, "candidate_feedback": candidate_feedback}
        return _builder(request, db, filters=filters, chosen=questions, positions=positions, errors=exc.errors,
                        values=values, status_code=http_status(exc))
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


def _attempt_of(assessment: Assessment, attempt_id: int) -> AssessmentAttempt:
    attempt = next((a for a in assessment.attempts if a.id == attempt_id), None)
    if attempt is None:
        raise HTTPException(404, "This candidate is not invited to this assessment.")
    return attempt


@router.get("/{assessment_id}/report/{attempt_id}")
def report(request: Request, db: SessionDep, user: StaffUser, assessment: OwnedDep, attempt_id: Id) -> Response:
    attempt = _attempt_of(assessment, attempt_id)
    rows = report_rows(db, attempt=attempt)
    evidence = report_evidence(db, attempt=attempt, viewer=user,
                               submission_ids=[row.submission.id for row in rows if row.submission])
    context = {"assessment": assessment, "attempt": attempt, "rows": rows, "totals": report_totals(rows),
               "now": utcnow(), "evidence": evidence}
    return render(request, "assessments/report.html", context)


@router.get("/{assessment_id}/report/{attempt_id}/similar/{match_id}")
def similar_code(request: Request, db: SessionDep, user: StaffUser, assessment: OwnedDep, attempt_id: Id,
                 match_id: Id) -> Response:
    attempt = _attempt_of(assessment, attempt_id)
    found = comparison(db, match_id=match_id, attempt=attempt, viewer=user)
    if found is None:
        raise HTTPException(404, "There is no such similarity result for this candidate.")
    return render(request, "assessments/similar.html", {"assessment": assessment, "attempt": attempt,
                                                         "comparison": found})
