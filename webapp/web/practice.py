"""A signed-in user's own progress, spaced-repetition practice and mock interviews (signed-in pages:
the guard is on their group in web/routes.py)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

from webapp.assessments.service import my_attempt
from webapp.core.db import utcnow
from webapp.core.errors import ServiceError
from webapp.practice import mock
from webapp.practice import topics as practice
from webapp.practice.charts import progress_context
from webapp.questions.curation import list_topics
from webapp.web.deps import CurrentUser, SessionDep
from webapp.web.errors import http_status, redirect_to
from webapp.web.params import FormCount, FormLine, FormLines, Id
from webapp.web.rendering import flash, render

router = APIRouter()


@router.get("/progress")
def my_progress(request: Request, db: SessionDep, user: CurrentUser) -> Response:
    return render(request, "progress/progress.html", progress_context(db, user=user, viewer=user, now=utcnow()))


@router.get("/practice")
def practice_page(request: Request, db: SessionDep, user: CurrentUser) -> Response:
    state = practice.practice_state(db, user=user, now=utcnow())
    topics = list_topics(db)
    return render(request, "progress/practice.html", {"state": state, "topics": topics})


@router.post("/practice/topics")
def choose_topics(request: Request, db: SessionDep, user: CurrentUser,
                  topics: FormLines = []) -> Response:  # noqa: B006
    chosen = practice.choose_topics(db, user=user, topics=topics)
    flash(request, f"New questions will come from {len(chosen) or 'all'} topic{'s' if len(chosen) != 1 else ''}.",
          "success")
    return redirect_to(request, "practice_page")


@router.get("/practice/mock")
def mock_form(request: Request, db: SessionDep, user: CurrentUser) -> Response:
    topics = list_topics(db)
    return render(request, "progress/mock.html", {"topics": topics, "mocks": mock.my_mocks(db, user=user),
                                                  "lengths": mock.LENGTHS, "minutes": mock.MINUTES, "errors": {}})


@router.post("/practice/mock")
def start_mock(request: Request, db: SessionDep, user: CurrentUser, topics: FormLines = [],  # noqa: B006
               difficulty: FormLine = "", length: FormCount = 5, minutes: FormCount = 30) -> Response:
    try:
        attempt = mock.start_mock(db, user=user, topics=topics, difficulty=difficulty, length=length,
                                  minutes=minutes, now=utcnow())
    except ServiceError as exc:
        all_topics = list_topics(db)
        return render(request, "progress/mock.html", {"topics": all_topics, "mocks": mock.my_mocks(db, user=user),
                                                      "lengths": mock.LENGTHS, "minutes": mock.MINUTES,
                                                      "errors": exc.errors}, status_code=http_status(exc))
    return redirect_to(request, "take", attempt_id=attempt.id)


@router.get("/practice/mock/{attempt_id}")
def mock_summary(request: Request, db: SessionDep, user: CurrentUser, attempt_id: Id) -> Response:
    attempt = my_attempt(db, attempt_id=attempt_id, candidate=user)
    if attempt is None or attempt.assessment.kind != "mock":
        raise HTTPException(404, "There is no such mock interview of yours.")
    summary = mock.summarise(db, attempt=attempt, now=utcnow())
    return render(request, "progress/mock_summary.html", {"attempt": attempt, "summary": summary, "now": utcnow()})
