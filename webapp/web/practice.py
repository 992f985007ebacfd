"""Progress, spaced-repetition practice and mock interviews."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

from webapp.assessments.service import my_attempt
from webapp.core.db import utcnow
from webapp.core.errors import ServiceError
from webapp.identity.models import Role, User
from webapp.practice import charts, mock
from webapp.practice import topics as practice
from webapp.practice.stats import progress_for
from webapp.questions.curation import list_topics
from webapp.web.deps import CurrentUser, OptionalUser, SessionDep, StaffUser
from webapp.web.errors import http_status, redirect_to
from webapp.web.params import FormCount, FormLine, FormLines, Id
from webapp.web.rendering import flash, render

router = APIRouter()


def _progress_context(db: SessionDep, user: User, viewer: User) -> dict[str, object]:
    progress = progress_for(db, user=user, viewer=viewer, now=utcnow())
    return {"progress": progress, "activity_chart": charts.activity_bars(progress.days),
            "score_chart": charts.score_line(progress.days), "mastery_chart": charts.mastery_bars(progress.topics)}


@router.get("/")
def home(request: Request, db: SessionDep, user: OptionalUser) -> Response:
    context: dict[str, object] = {}
    if user is not None and user.role == Role.candidate:
        context = _progress_context(db, user, user) | {"practice": practice.practice_state(db, user=user, now=utcnow())}
    return render(request, "home.html", context)


@router.get("/progress")
def my_progress(request: Request, db: SessionDep, user: CurrentUser) -> Response:
    return render(request, "progress/progress.html", _progress_context(db, user, user))


@router.get("/progress/{user_id}")
def candidate_progress(request: Request, db: SessionDep, staff: StaffUser, user_id: Id) -> Response:
    candidate = db.get(User, user_id)
    if candidate is None:
        raise HTTPException(404, "There is no such user.")
    return render(request, "progress/progress.html", _progress_context(db, candidate, staff))


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
