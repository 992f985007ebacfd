"""Interviewer pages: the review queue, one review, comments on lines."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, HTTPException, Query, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from webapp.core.errors import Conflict, ServiceError
from webapp.identity.models import User
from webapp.integrity.evidence import code_hidden_in_strings, similar_for_review
from webapp.mail.delivery import deliver_pending
from webapp.review import queue, service
from webapp.review.access import can_review, earlier_attempts, get_submission
from webapp.review.models import Recommendation, ReviewComment
from webapp.submissions.attempts import attempt_answers
from webapp.submissions.models import Submission
from webapp.web.deps import FormDataDep, SessionDep, SettingsDep, StaffUser, smtp_server
from webapp.web.errors import http_status, redirect_to
from webapp.web.params import FormPosition, FormText, Id, Position
from webapp.web.rendering import flash, is_partial, render

router = APIRouter(prefix="/review")  # staff pages: guarded in web/routes.py


def reviewable(db: SessionDep, user: StaffUser, submission_id: Id) -> Submission:
    submission = get_submission(db, submission_id=submission_id, viewer=user)
    if submission is None or not can_review(user, submission):
        raise HTTPException(404, "There is no such submission for you to review.")
    return submission


ReviewableDep = Annotated[Submission, Depends(reviewable)]


@router.get("")
def review_queue(request: Request, db: SessionDep, user: StaffUser,
                 filters: Annotated[queue.ReviewFilters, Query()]) -> Response:
    page = queue.review_queue(db, viewer=user, filters=filters)
    context = {"page": page, "filters": filters, "assessments": queue.assessments_for_filter(db, viewer=user)}
    return render(request, "review/queue.html", context, block="results")


def _page(request: Request, db: SessionDep, submission: Submission, *, viewer: User,
          errors: dict[str, str] | None = None, status_code: int = 200, comment_line: int | None = None,
          editing: int | None = None) -> Response:
    in_attempt = (attempt_answers(db, attempt_id=submission.attempt_id, question_id=submission.question_id)
                  if submission.attempt_id else [])
    context = {
        "submission": submission, "review": service.get_review(db, submission_id=submission.id),
        "comments": service.comments_for(db, submission_id=submission.id),
        "attempts": earlier_attempts(db, submission=submission, viewer=viewer), "in_attempt": in_attempt,
        "errors": errors or {}, "recommendations": list(Recommendation), "comment_line": comment_line,
        "editing": editing, "similar": similar_for_review(db, submission=submission, viewer=viewer),
        "in_strings": code_hidden_in_strings(submission=submission),
    }
    return render(request, "review/detail.html", context, status_code=status_code)


@router.get("/{submission_id}")
def review_page(request: Request, db: SessionDep, user: StaffUser, submission: ReviewableDep,
                comment_line: Position | None = None, edit: Id | None = None) -> Response:
    return _page(request, db, submission, viewer=user, comment_line=comment_line, editing=edit)


@router.post("/{submission_id}/claim")
def claim(request: Request, db: SessionDep, user: StaffUser, submission: ReviewableDep) -> Response:
    try:
        service.claim(db, submission=submission, reviewer=user)
    except ServiceError as exc:
        return _page(request, db, submission, viewer=user, errors=exc.errors, status_code=http_status(exc))
    flash(request, "You are reviewing this submission for the next 30 minutes.", "success")
    return redirect_to(request, "review_page", submission_id=submission.id)


def _scorecard(data: FormData) -> service.Scorecard:
    ratings = {key.removeprefix("rating-"): str(value) for key, value in data.items() if key.startswith("rating-")}
    return service.Scorecard(ratings=ratings, recommendation=str(data.get("recommendation", "")),
                             overall_comment=str(data.get("overall_comment", "")),
                             final_score=str(data.get("final_score", "")),
                             override_reason=str(data.get("override_reason", "")))


@router.post("/{submission_id}")
def save_review(request: Request, db: SessionDep, settings: SettingsDep, user: StaffUser, submission: ReviewableDep,
                data: FormDataDep, tasks: BackgroundTasks) -> Response:
    submit = data.get("action") == "submit"
    try:
        service.save_scorecard(db, submission=submission, reviewer=user, card=_scorecard(data), submit=submit,
                               public_url=settings.public_url)
    except ServiceError as exc:
        return _page(request, db, submission, viewer=user, errors=exc.errors, status_code=http_status(exc))
    if submit:
        tasks.add_task(deliver_pending, request.app.state.db, server=smtp_server(settings))  # "review ready"
    flash(request, "Review submitted: the candidate can see it now." if submit else "Draft saved.", "success")
    if submit:
        return redirect_to(request, "review_queue")
    return redirect_to(request, "review_page", submission_id=submission.id)


@router.get("/{submission_id}/comment-form")
def comment_form(request: Request, submission: ReviewableDep,
                 line: Position | None = None) -> Response:
    return render(request, "review/_comment_form.html", {"submission": submission, "line": line, "errors": {}})


@router.post("/{submission_id}/comments")
def add_comment(request: Request, db: SessionDep, user: StaffUser, submission: ReviewableDep,
                body: FormText = "", line: FormPosition = None) -> Response:
    try:
        service.add_comment(db, submission=submission, author=user, line=line, body=body)
    except ServiceError as exc:
        if is_partial(request):  # the form again, in place of itself: the line's comments stay
            target = f"#comment-form-{line or 'general'}"
            return render(request, "review/_comment_form.html",
                          {"submission": submission, "line": line, "errors": exc.errors, "body": body},
                          status_code=http_status(exc), headers={"HX-Retarget": target, "HX-Reswap": "outerHTML"})
        return _page(request, db, submission, viewer=user, errors=exc.errors, status_code=http_status(exc),
                     comment_line=line)
    if is_partial(request):
        comments = [c for c in service.comments_for(db, submission_id=submission.id) if c.line == line]
        return render(request, "review/_line_comments.html", {"submission": submission, "line": line,
                                                              "line_comments": comments, "editable": True})
    return redirect_to(request, "review_page", submission_id=submission.id, fragment=f"L-{line}" if line else "")


def own_comment(db: SessionDep, user: StaffUser, comment_id: Id) -> ReviewComment:
    comment = db.get(ReviewComment, comment_id)
    if comment is None or comment.author_id != user.id:
        raise HTTPException(404, "There is no such comment of yours.")
    return comment


OwnCommentDep = Annotated[ReviewComment, Depends(own_comment)]


@router.get("/comments/{comment_id}/edit")
def edit_comment_form(request: Request, db: SessionDep, comment: OwnCommentDep) -> Response:
    service.check_comment_editable(db, comment=comment)  # 409 once the review is submitted
    return render(request, "review/_comment_edit.html", {"comment": comment, "errors": {}})


@router.post("/comments/{comment_id}")
def edit_comment(request: Request, db: SessionDep, user: StaffUser, comment: OwnCommentDep,
                 body: FormText = "") -> Response:
    try:
        service.edit_comment(db, comment=comment, author=user, body=body)
    except Conflict:
        raise  # the review was submitted: an error page (409) saying so, not the form again
    except ServiceError as exc:
        return render(request, "review/_comment_edit.html", {"comment": comment, "errors": exc.errors},
                      status_code=http_status(exc))
    if is_partial(request):
        return render(request, "review/_comment.html", {"comment": comment, "editable": True})
    return redirect_to(request, "review_page", submission_id=comment.submission_id, fragment=f"comment-{comment.id}")
