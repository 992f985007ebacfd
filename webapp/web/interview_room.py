"""In the interview room: running the code (both people; hidden tests for the interviewer), the
interviewer's private notes, and the replay (the interviewer's side only)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse, Response

from webapp.core.errors import ServiceError
from webapp.interviews import replay, service
from webapp.interviews.access import runs_the_room
from webapp.interviews.models import Interview
from webapp.interviews.runs import runs_of, start_run
from webapp.web.deps import CurrentUser, SessionDep
from webapp.web.errors import http_status, redirect_to
from webapp.web.interviews import LIVE_BUNDLE, JoinedDep
from webapp.web.params import FormLine, FormText, Line
from webapp.web.rendering import render

router = APIRouter(prefix="/interviews")  # signed in: guarded in web/routes.py; each object checked


def _fragment(request: Request, name: str, context: dict[str, object], *, status_code: int = 200) -> Response:
    return render(request, f"interviews/{name}.html", context, status_code=status_code)


def _runs(request: Request, db: SessionDep, user: CurrentUser, interview: Interview, *,
          errors: dict[str, str] | None = None, status_code: int = 200) -> Response:
    context = {"interview": interview, "runs": runs_of(db, interview=interview, viewer=user),
               "interviewer_side": runs_the_room(user, interview), "errors": errors or {}}
    return _fragment(request, "_runs", context, status_code=status_code)


@router.get("/{interview_id}/runs")
def room_runs(request: Request, db: SessionDep, user: CurrentUser, interview: JoinedDep) -> Response:
    """The runs and their output (htmx: reloaded on a room signal, polled while one is going)."""
    return _runs(request, db, user, interview)


@router.post("/{interview_id}/runs")
def run_code(request: Request, db: SessionDep, user: CurrentUser, interview: JoinedDep,
             suite: FormLine = "example") -> Response:
    try:
        start_run(db, interview=interview, user=user, suite=suite)
    except ServiceError as exc:
        if request.headers.get("hx-request"):
            return _runs(request, db, user, interview, errors=exc.errors, status_code=http_status(exc))
        raise HTTPException(http_status(exc), exc.message) from exc
    if request.headers.get("hx-request"):
        return _runs(request, db, user, interview)
    return redirect_to(request, "interview_room", interview_id=interview.id, fragment="room-runs")


def _notes(request: Request, db: SessionDep, user: CurrentUser, interview: Interview, *,
           errors: dict[str, str] | None = None, body: str = "", status_code: int = 200) -> Response:
    context = {"interview": interview, "notes": service.notes_of(db, interview=interview, viewer=user),
               "errors": errors or {}, "values": {"body": body}}
    return _fragment(request, "_notes", context, status_code=status_code)


@router.post("/{interview_id}/notes")
def add_note(request: Request, db: SessionDep, user: CurrentUser, interview: JoinedDep,
             body: FormText = "") -> Response:
    """A private note (the interviewer's side only; it never reaches the candidate's browser)."""
    try:
        service.add_note(db, interview=interview, author=user, body=body)
    except ServiceError as exc:
        if request.headers.get("hx-request") and runs_the_room(user, interview):
            return _notes(request, db, user, interview, errors=exc.errors, body=body, status_code=http_status(exc))
        raise HTTPException(http_status(exc), exc.message) from exc
    if request.headers.get("hx-request"):
        return _notes(request, db, user, interview)
    return redirect_to(request, "interview_room", interview_id=interview.id, fragment="room-notes")


def _interviewer_side(user: CurrentUser, interview: Interview) -> None:
    if not runs_the_room(user, interview):
        raise HTTPException(403, "Only the interviewer can watch the replay.")


@router.get("/{interview_id}/replay")
def replay_page(request: Request, db: SessionDep, user: CurrentUser, interview: JoinedDep, at: Line = "") -> Response:
    """The replay; without JavaScript, ``?at=`` (mm:ss or seconds) shows the code at that moment."""
    _interviewer_side(user, interview)
    line = replay.timeline(db, interview=interview)
    wanted = replay.parse_moment(at) if at else line["duration_ms"]
    if wanted is None:
        raise HTTPException(422, "Give the moment as seconds or minutes:seconds, e.g. 1:15.")
    ms = min(wanted, line["duration_ms"])
    moment = replay.code_at(db, interview=interview, ms=ms)
    return render(request, "interviews/replay.html", {"interview": interview, "timeline": line, "moment": moment,
                                                      "at": at, "live_bundle": LIVE_BUNDLE})


@router.get("/{interview_id}/replay.json")
def replay_data(db: SessionDep, user: CurrentUser, interview: JoinedDep) -> Response:
    _interviewer_side(user, interview)
    return JSONResponse(replay.timeline(db, interview=interview), headers={"Cache-Control": "no-store"})
