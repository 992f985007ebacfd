"""The replay of an interview: its update log, runs, notes and events on one timeline, in
milliseconds from the start. The browser rebuilds the code at any moment from the same updates
the server stores (static/js/interview_replay.js); ``code_at`` is the same thing done here, for
the page without JavaScript and for the tests that hold the two to each other."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from webapp.grading.models import ExampleRun
from webapp.interviews import document
from webapp.interviews.models import Interview, InterviewEvent, InterviewNote, InterviewRun, InterviewUpdate
from webapp.interviews.texts import text_of

LARGE_PASTE = 200  # characters: a paste this long is marked on the timeline
LONG_BLUR_MS = 10_000


def origin(interview: Interview) -> datetime:
    return interview.started_at or interview.created_at


def _ms(at: datetime, start: datetime) -> int:
    return max(0, round((at - start).total_seconds() * 1000))


def _run_summary(run: ExampleRun) -> str:
    if run.result is None:
        return "Running…"
    return str(run.result.get("problem") or run.result.get("summary") or "Done.")


def timeline(db: Session, *, interview: Interview) -> dict[str, Any]:
    """Everything the replay player needs, for the interviewer's side only (it holds the notes)."""
    start = origin(interview)
    updates = db.execute(select(InterviewUpdate.created_at, InterviewUpdate.payload)
                         .where(InterviewUpdate.interview_id == interview.id).order_by(InterviewUpdate.id)).all()
    events = db.scalars(select(InterviewEvent).where(InterviewEvent.interview_id == interview.id)
                        .options(joinedload(InterviewEvent.user)).order_by(InterviewEvent.id)).all()
    notes = db.scalars(select(InterviewNote).where(InterviewNote.interview_id == interview.id)
                       .order_by(InterviewNote.id)).all()
    runs = db.execute(select(InterviewRun, ExampleRun).join(ExampleRun, ExampleRun.id == InterviewRun.run_id)
                      .where(InterviewRun.interview_id == interview.id)
                      .options(joinedload(InterviewRun.requested_by)).order_by(InterviewRun.id)).all()
    titles = {item.question_id: item.question.title for item in interview.questions}
    questions = [{"ms": _ms(e.created_at, start), "question_id": e.detail.get("question_id"),
                  "title": titles.get(int(e.detail.get("question_id") or 0), "")}
                 for e in events if e.kind == "question"]
    signals = []
    for event in events:
        if event.kind == "paste":
            signals.append({"ms": _ms(event.created_at, start), "kind": "paste", "who": _who(event),
                            "size": event.detail.get("size", 0), "external": bool(event.detail.get("external")),
                            "large": event.detail.get("size", 0) >= LARGE_PASTE})
        elif event.kind == "blur":
            signals.append({"ms": _ms(event.created_at, start), "kind": "blur", "who": _who(event),
                            "duration_ms": event.detail.get("ms", 0),
                            "large": event.detail.get("ms", 0) >= LONG_BLUR_MS})
    end = interview.ended_at or max([start, *(at for at, _ in updates)])
    return {
        "started_at": start.isoformat(), "duration_ms": _ms(end, start),
        "updates": [{"ms": _ms(at, start), "update": base64.b64encode(payload).decode()} for at, payload in updates],
        "questions": questions,
        "runs": [{"ms": _ms(row.created_at, start), "suite": row.suite, "summary": _run_summary(run),
                  "by": row.requested_by.display_name if row.requested_by else ""} for row, run in runs],
        "notes": [{"ms": _ms(note.created_at, start), "body": note.body} for note in notes],
        "events": signals,
    }


def _who(event: InterviewEvent) -> str:
    return event.user.display_name if event.user else ""


@dataclass(frozen=True)
class Moment:
    ms: int
    question_id: int | None
    code: str


def code_at(db: Session, *, interview: Interview, ms: int) -> Moment:
    """The code of the question current ``ms`` after the start, as it was then: every update
    stored by then, applied in order."""
    start = origin(interview)
    at = start + timedelta(milliseconds=ms)
    switches = db.scalars(select(InterviewEvent).where(InterviewEvent.interview_id == interview.id,
                                                       InterviewEvent.kind == "question",
                                                       InterviewEvent.created_at <= at)
                          .order_by(InterviewEvent.id)).all()
    current = switches[-1].detail.get("question_id") if switches else \
        (interview.questions[0].question_id if interview.questions else None)
    doc = document.load_document(db, interview_id=interview.id, until=at)
    return Moment(ms, current, text_of(doc, current) if current is not None else "")


def parse_moment(text: str) -> int | None:
    """``75``, ``1:15`` or ``0:01:15`` → milliseconds; None when it is none of those."""
    parts = text.strip().split(":")
    if not 1 <= len(parts) <= 3 or not all(p.isdigit() and len(p) <= 6 for p in parts):
        return None
    seconds = 0
    for part in parts:
        seconds = seconds * 60 + int(part)
    return seconds * 1000
