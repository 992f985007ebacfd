"""Answering a question, and the candidate's feedback and history pages."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, File, Form, HTTPException, Query, Request, UploadFile
from fastapi.responses import Response

from webapp.assessments import service as assessments
from webapp.core.db import utcnow
from webapp.core.errors import ServiceError
from webapp.grading.worker_presence import grading_available_for
from webapp.identity.models import Role, User
from webapp.practice import answering
from webapp.questions.catalogue import get_visible_question
from webapp.review import access
from webapp.review import service as reviews
from webapp.review.models import Review
from webapp.submissions import history, service
from webapp.submissions.models import Submission
from webapp.submissions.presenting import poll_delay_ms
from webapp.web.deps import CurrentUser, SessionDep, SettingsDep
from webapp.web.errors import http_status, redirect_to
from webapp.web.params import FormLines, FormText, Id, Line
from webapp.web.rendering import flash, is_partial, render

router = APIRouter()


@router.post("/questions/{slug}/submissions")
def submit(
    request: Request, db: SessionDep, user: CurrentUser, settings: SettingsDep, slug: Line,
    answer: FormText = "", choice: FormLines = [],  # noqa: B006
    code: FormText = "", file: Annotated[UploadFile | None, File()] = None,
    attempt_id: Annotated[Id | None, Form(alias="attempt")] = None,
    form_token: Annotated[str, Form(max_length=64, pattern=r"^[A-Za-z0-9_-]*$")] = "",
) -> Response:
    question = get_visible_question(db, slug=slug, viewer_is_admin=False)
    if question is None:
        raise HTTPException(404, "There is no such question, or it is not open for answers.")
    attempt = assessments.my_attempt(db, attempt_id=attempt_id, candidate=user) if attempt_id else None
    if attempt_id and attempt is None:
        raise HTTPException(404, "There is no such assessment for you.")
    upload = file.file.read(settings.max_upload_bytes + 1) if file is not None and file.filename else None
    policy = service.SubmissionPolicy(settings.max_upload_bytes, settings.submissions_per_window,
                                      timedelta(minutes=settings.submission_window_minutes))
    answer_input = service.AnswerInput(answer=answer, choices=tuple(choice), code=code,
                                       upload_name=file.filename or "" if file else "", upload_data=upload,
                                       form_token=form_token)
    try:
        submission = answering.submit_answer(db, user=user, question=question, answer=answer_input, policy=policy,
                                             attempt=attempt)
    except ServiceError as exc:
        context = {"question": question, "revision": question.current_revision, "errors": exc.errors,
                   "values": {"answer": answer, "code": code, "choices": choice}, "attempt": attempt}
        headers = {"HX-Retarget": "#answer-form", "HX-Reswap": "outerHTML"}
        return render(request, "questions/detail.html", context, block="answer_form", status_code=http_status(exc),
                      headers=headers)
    if attempt is not None:
        flash(request, "Answer saved. You can change it until you submit the assessment or time runs out.", "success")
        return redirect_to(request, "take", attempt_id=attempt.id)
    if is_partial(request):
        return _status(request, db, submission, viewer=user)
    return redirect_to(request, "submission_detail", submission_id=submission.id)


def _status_context(db: SessionDep, submission: Submission, *, viewer: User, full: bool) -> dict[str, object]:
    context: dict[str, object] = {
        "submission": submission,
        "position": service.queue_position(db, submission=submission),
        # Shown only while the answer waits: a graded answer's page does not ask about graders.
        "grading_available": grading_available_for(db, kind=submission.kind.value) if submission.is_pending else True,
        "poll_ms": poll_delay_ms((utcnow() - submission.queued_at).total_seconds()),
    }
    if full:
        context["attempts"] = access.earlier_attempts(db, submission=submission, viewer=viewer)
        context.update(reviews.finished_review(db, submission=submission))
    return context


def _status(request: Request, db: SessionDep, submission: Submission, *, viewer: User) -> Response:
    return render(request, "submissions/detail.html", _status_context(db, submission, viewer=viewer, full=False),
                  block="status")


def _owned_or_404(db: SessionDep, user: CurrentUser, submission_id: Id) -> Submission:
    submission = access.get_submission(db, submission_id=submission_id, viewer=user)
    if submission is None:
        raise HTTPException(404, "There is no such submission.")
    return submission


@router.get("/submissions/{submission_id}")
def submission_detail(request: Request, db: SessionDep, user: CurrentUser, submission_id: Id,
                      tasks: BackgroundTasks) -> Response:
    submission = _owned_or_404(db, user, submission_id)
    context = _status_context(db, submission, viewer=user, full=True)
    # finished_review hands over the review only once it is submitted, the one state that gets marked seen.
    review = context.get("review")
    if isinstance(review, Review) and reviews.needs_seen_mark(review=review, viewer=user, submission=submission,
                                                              now=utcnow()):
        tasks.add_task(reviews.mark_seen, request.app.state.db, review_id=review.id)
    return render(request, "submissions/detail.html", context)


@router.post("/submissions/{submission_id}/review-request")
def request_review(request: Request, db: SessionDep, user: CurrentUser, submission_id: Id) -> Response:
    submission = _owned_or_404(db, user, submission_id)
    try:
        reviews.request_by_author(db, submission=submission, user=user)
    except ServiceError as exc:
        raise HTTPException(http_status(exc), exc.errors["form"]) from None
    flash(request, "Review requested: an interviewer will look at this answer.", "success")
    return redirect_to(request, "submission_detail", submission_id=submission.id)


@router.get("/submissions/{submission_id}/status")
def submission_status(request: Request, db: SessionDep, user: CurrentUser, submission_id: Id) -> Response:
    submission = _owned_or_404(db, user, submission_id)
    if not is_partial(request):
        return redirect_to(request, "submission_detail", submission_id=submission_id)
    return _status(request, db, submission, viewer=user)


@router.get("/submissions")
def submission_history(request: Request, db: SessionDep, user: CurrentUser,
                       filters: Annotated[history.HistoryFilters, Query()]) -> Response:
    page = history.list_history(db, user=user, filters=filters)
    finals = reviews.overridden_scores(db, submission_ids=[item.id for item in page.items])
    return render(request, "submissions/list.html", {"page": page, "filters": filters, "finals": finals,
                                                     "is_staff": user.role != Role.candidate}, block="results")
