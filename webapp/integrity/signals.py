"""Session signals: what an assessment's answer page noticed while the clock ran, sent by the
page as it happens (static/js/session_signals.js). Stored as told, bounded, and shown to the
interviewer as a timeline; nothing is scored from them. The page's clock is the candidate's,
so each signal also keeps when the server received it."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from webapp.assessments.models import AssessmentAttempt
from webapp.assessments.service import check_can_answer
from webapp.core.db import lock_keys
from webapp.core.errors import Invalid, NotFound, RateLimited
from webapp.identity.models import User
from webapp.integrity.models import SessionSignal

KINDS = frozenset({"opened", "first_input", "paste", "hidden", "submitted"})
MAX_EVENTS = 50  # per request
MAX_PER_ATTEMPT = 2_000  # a whole assessment: far above what a person does, a bound on what a script can store
PER_MINUTE = 300  # per attempt
MAX_BODY_BYTES = 16 * 1024  # enforced as the body streams in (web/body_limit.py, set up in main.py)
VISIT = re.compile(r"^[A-Za-z0-9_-]{8,32}$")
DAY_MS = 24 * 3600 * 1000


def record_signals(db: Session, *, attempt: AssessmentAttempt, user: User, position: int,
                   payload: Any, now: datetime) -> int:
    """Store the page's signals for the question at ``position`` while ``attempt`` runs; returns
    how many. Refused outside a running attempt or past its questions (404/409), malformed (422),
    or past the bounds (429)."""
    item = next((i for i in attempt.assessment.items if i.position == position), None)
    if item is None:
        raise NotFound({"form": "There is no such question in this assessment."})
    question = item.question
    check_can_answer(attempt=attempt, user=user, question=question, now=now)
    if attempt.assessment.kind != "assessment":
        return 0  # a mock interview is the candidate's own practice: nothing is recorded
    visit, events = _read(payload)
    # Two requests of one attempt at once would both count under the bound and both insert.
    lock_keys(db, keys=[f"session-signals:{attempt.id}"])
    stored = db.scalar(select(func.count()).select_from(SessionSignal)
                       .where(SessionSignal.attempt_id == attempt.id)) or 0
    recent = db.scalar(select(func.count()).select_from(SessionSignal)
                       .where(SessionSignal.attempt_id == attempt.id,
                              SessionSignal.received_at > now - timedelta(minutes=1))) or 0
    if stored + len(events) > MAX_PER_ATTEMPT or recent + len(events) > PER_MINUTE:
        raise RateLimited({"form": "Too many session signals for this assessment."}, retry_after=60)
    for kind, at_ms, detail in events:
        db.add(SessionSignal(attempt_id=attempt.id, question_id=question.id, visit=visit, kind=kind, at_ms=at_ms,
                             detail=detail, received_at=now))
    return len(events)


def _read(payload: Any) -> tuple[str, list[tuple[str, int, dict[str, Any]]]]:
    if not isinstance(payload, dict) or not isinstance(payload.get("visit"), str) or not VISIT.match(payload["visit"]):
        raise Invalid({"form": "Signals need a visit id (8–32 letters, digits, - or _)."})
    events = payload.get("events")
    if not isinstance(events, list) or not 1 <= len(events) <= MAX_EVENTS:
        raise Invalid({"form": f"Send between 1 and {MAX_EVENTS} signals at a time."})
    return payload["visit"], [_event(event) for event in events]


def _count(value: Any, *, most: int) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= most else None


def _event(event: Any) -> tuple[str, int, dict[str, Any]]:
    if not isinstance(event, dict) or event.get("kind") not in KINDS:
        raise Invalid({"form": f"A signal's kind is one of: {', '.join(sorted(KINDS))}."})
    kind = str(event["kind"])
    at_ms = _count(event.get("at_ms"), most=DAY_MS)
    if at_ms is None:
        raise Invalid({"form": "A signal's at_ms is a whole number of milliseconds since the page opened."})
    detail: dict[str, Any] = {}
    if kind == "paste":
        size = _count(event.get("size"), most=10_000_000)
        if size is None or not isinstance(event.get("external"), bool):
            raise Invalid({"form": "A paste says its size (characters) and whether it came from outside the page."})
        detail = {"size": size, "external": event["external"]}
    elif kind == "hidden":
        ms = _count(event.get("ms"), most=DAY_MS)
        if ms is None:
            raise Invalid({"form": "A hidden page says for how many milliseconds."})
        detail = {"ms": ms}
    return kind, at_ms, detail
