"""Live interviews: the list (an interviewer's, or a candidate's own), scheduling one, the room,
its question panel, switching and adding questions, and ending with the scorecard. The room's
runs, notes and replay are web/interview_room.py; the WebSocket is web/interview_socket.py."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, HTTPException, Request
from fastapi.responses import Response

from webapp.core.db import utcnow
from webapp.core.errors import ServiceError
from webapp.identity.models import Role
from webapp.interviews import document, service
from webapp.interviews.access import runs_the_room
from webapp.interviews.models import Interview, InterviewStatus
from webapp.interviews.runs import runs_of
from webapp.interviews.texts import text_of
from webapp.mail.delivery import deliver_pending
from webapp.review.models import Recommendation
from webapp.web.deps import CurrentUser, FormDataDep, SessionDep, SettingsDep, StaffUser, smtp_server
from webapp.web.errors import http_status, redirect_to
from webapp.web.params import FormLine, FormText, Id
from webapp.web.rendering import flash, render

# The live editor's bundle (static/vendor/README.md): the newest built, found once at start-up.
LIVE_BUNDLE = max((p.name for p in (Path(__file__).parents[2] / "static" / "vendor").glob("live-*.min.js")),
                  default="live.min.js")

router = APIRouter(prefix="/interviews")  # signed in: guarded in web/routes.py; each object checked here


def joined_or_404(db: SessionDep, user: CurrentUser, interview_id: Id) -> Interview:
    interview = service.get_interview(db, interview_id=interview_id, viewer=user)
    if interview is None:
        raise HTTPException(404, "There is no such interview of yours.")
    return interview


JoinedDep = Annotated[Interview, Depends(joined_or_404)]


def _home(request: Request, db: SessionDep, user: CurrentUser, *, errors: dict[str, str] | None = None,
          values: dict[str, str] | None = None, status_code: int = 200) -> Response:
    staff = user.role != Role.candidate
    mine = service.list_for_staff(db, viewer=user) if staff else []
    context = {"staff": staff, "errors": errors or {}, "values": values or {},
               "groups": [(status, [i for i in mine if i.status == status]) for status in InterviewStatus],
               "invited": service.list_for_candidate(db, candidate=user)}
    return render(request, "interviews/home.html", context, status_code=status_code)


@router.get("")
def interview_home(request: Request, db: SessionDep, user: CurrentUser) -> Response:
    return _home(request, db, user)


@router.post("")
def create_interview(request: Request, db: SessionDep, settings: SettingsDep, user: StaffUser,
                     tasks: BackgroundTasks, candidate_email: FormLine = "", question: FormLine = "",
                     title: FormLine = "") -> Response:
    try:
        interview = service.create_interview(db, interviewer=user, candidate_email=candidate_email,
                                             question=question, title=title, public_url=settings.public_url)
    except ServiceError as exc:
        values = {"candidate_email": candidate_email, "question": question, "title": title}
        return _home(request, db, user, errors=exc.errors, values=values, status_code=http_status(exc))
    tasks.add_task(deliver_pending, request.app.state.db, server=smtp_server(settings))  # the invitation
    flash(request, f"Interview scheduled: {interview.candidate.display_name} can join it from their Interviews page.",
          "success")
    return redirect_to(request, "interview_room", interview_id=interview.id)


def _room_context(db: SessionDep, user: CurrentUser, interview: Interview) -> dict[str, object]:
    item = service.current_item(interview)
    code = text_of(document.load_document(db, interview_id=interview.id), item.question_id) if item else ""
    interviewer_side = runs_the_room(user, interview)
    return {"interview": interview, "item": item, "code": code, "interviewer_side": interviewer_side,
            "role": "candidate" if user.id == interview.candidate_id else user.role.value,
            "runs": runs_of(db, interview=interview, viewer=user),
            "notes": service.notes_of(db, interview=interview, viewer=user),
            "recommendations": list(Recommendation), "now": utcnow(), "live_bundle": LIVE_BUNDLE}


def _room(request: Request, db: SessionDep, user: CurrentUser, interview: Interview, *, block: str | None = None,
          errors: dict[str, str] | None = None, status_code: int = 200, **values: str) -> Response:
    context = {**_room_context(db, user, interview), "errors": errors or {}, "values": values}
    return render(request, "interviews/room.html", context, block=block, status_code=status_code)


@router.get("/{interview_id}")
def interview_room(request: Request, db: SessionDep, user: CurrentUser, interview: JoinedDep) -> Response:
    return _room(request, db, user, interview)


@router.get("/{interview_id}/question")
def question_panel(request: Request, db: SessionDep, user: CurrentUser, interview: JoinedDep) -> Response:
    """The current question (htmx reloads it when the interviewer switches)."""
    return _room(request, db, user, interview, block="question_panel")


@router.post("/{interview_id}/questions")
def ask_question(request: Request, db: SessionDep, user: CurrentUser, interview: JoinedDep,
                 question: FormLine = "", question_id: FormLine = "") -> Response:
    """Add a question by slug, or switch to one already asked (``question_id``)."""
    try:
        service.ask(db, interview=interview, slug=question, question_id=question_id, actor=user)
    except ServiceError as exc:
        return _room(request, db, user, interview, errors=exc.errors, status_code=http_status(exc), question=question)
    return redirect_to(request, "interview_room", interview_id=interview.id)


@router.post("/{interview_id}/end")
def end_interview(request: Request, db: SessionDep, user: CurrentUser, interview: JoinedDep, data: FormDataDep,
                  recommendation: FormLine = "", overall_comment: FormText = "") -> Response:
    ratings = {name.removeprefix("rating-"): value for name, value in data.multi_items()
               if name.startswith("rating-") and isinstance(value, str)}
    card = service.InterviewScorecard(ratings=ratings, recommendation=recommendation, overall_comment=overall_comment)
    try:
        service.end_interview(db, interview=interview, actor=user, card=card)
    except ServiceError as exc:
        return _room(request, db, user, interview, errors=exc.errors, status_code=http_status(exc),
                     overall_comment=overall_comment, recommendation=recommendation)
    flash(request, "Interview ended. The scorecard is on the candidate's record; the replay is below.", "success")
    return redirect_to(request, "interview_room", interview_id=interview.id)
