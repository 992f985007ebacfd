"""The room's shared document in the database: an append-only log of Yjs updates.

An update is appended (and its notice queued in the same transaction, notices.py) before anyone
else is sent it, so what a client has seen is durable, and the log is also the replay. Each row
also says where it lies in the log by size (the log's bytes before and after it, kept on the
interview row), so a room that is told of rows can tell whether it has missed any in between.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pycrdt import Doc
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from webapp.core.db import utcnow
from webapp.core.errors import Conflict, TooLarge
from webapp.interviews import notices
from webapp.interviews.models import Interview, InterviewEvent, InterviewUpdate

log = logging.getLogger("rehearse.interviews")

MAX_LOG_BYTES = 4 * 1024 * 1024  # the document's size limit: every update ever made to it
EMPTY_UPDATE = b"\x00\x00"


class DocumentFull(TooLarge):
    pass


class InterviewEnded(Conflict):
    pass


@dataclass(frozen=True)
class Appended:
    row_id: int
    start: int  # the log's size in bytes before this row
    end: int  # and after it


def append_update(db: Session, *, interview: Interview, user_id: int | None, payload: bytes) -> int:
    """Store one update (refused when the interview has ended or the document would outgrow
    its limit); every process's rooms hear of it at commit. Returns its id."""
    if interview.is_finished:
        raise InterviewEnded({"form": "This interview has ended: the document is read-only."})
    appended = append_rows(db, interview_id=interview.id, updates=[(user_id, payload)])
    announce(db, interview_id=interview.id, rows=list(zip(appended, [payload], strict=True)), here=True)
    return appended[0].row_id


def append_rows(db: Session, *, interview_id: int,
                updates: Sequence[tuple[int | None, bytes]]) -> list[Appended]:
    """Append updates (each by its user, or None for the server's) to the room's log, all or
    none, with the checks (not ended, within the limit) in the statement itself: the rooms'
    writer stores hundreds a second and loads no interview. The interview row's lock orders
    the room's appends, so ``start``/``end`` chain."""
    total = sum(len(payload) for _, payload in updates)
    end = db.scalar(update(Interview).where(Interview.id == interview_id, Interview.ended_at.is_(None),
                                            Interview.log_bytes + total <= MAX_LOG_BYTES)
                    .values(log_bytes=Interview.log_bytes + total).returning(Interview.log_bytes)
                    .execution_options(synchronize_session=False))
    if end is None:
        if db.scalar(select(Interview.ended_at).where(Interview.id == interview_id)) is not None:
            raise InterviewEnded({"form": "This interview has ended: the document is read-only."})
        raise DocumentFull({"form": f"The document has reached its limit of {MAX_LOG_BYTES // 1024 // 1024} MiB "
                                    "of edits: no more changes can be stored."})
    now = utcnow()
    row_ids = db.scalars(insert(InterviewUpdate).returning(InterviewUpdate.id, sort_by_parameter_order=True),
                         [{"interview_id": interview_id, "user_id": user_id, "payload": payload, "created_at": now}
                          for user_id, payload in updates]).all()
    appended, start = [], end - total
    for row_id, (_, payload) in zip(row_ids, updates, strict=True):
        appended.append(Appended(row_id, start, start + len(payload)))
        start += len(payload)
    return appended


def announce(db: Session, *, interview_id: int, rows: Sequence[tuple[Appended, bytes]], here: bool) -> None:
    """Tell the rooms, at commit, that the log grew by ``rows`` (consecutive in the room's log),
    carrying the updates themselves so no room has to read them back; a NOTIFY too small for
    them carries only where they lie, and the other processes read the log. ``here=False``:
    this process's rooms already have them (the rooms' own writer)."""
    first, last = rows[0][0], rows[-1][0]
    where = {"interview": interview_id, "kind": "update", "id": last.row_id, "start": first.start, "end": last.end}
    full = {**where, "rows": [[appended.row_id, base64.b64encode(payload).decode()] for appended, payload in rows]}
    fits = len(notices.encode(full)) <= notices.MAX_NOTIFY_BYTES
    notices.notify(db, full, here=here, others=full if fits else where)


def load_document(db: Session, *, interview_id: int, until: datetime | None = None) -> Doc[Any]:
    """The document rebuilt from its log (up to ``until`` when given)."""
    statement = select(InterviewUpdate.payload).where(InterviewUpdate.interview_id == interview_id)
    if until is not None:
        statement = statement.where(InterviewUpdate.created_at <= until)
    doc: Doc[Any] = Doc()
    for payload in db.scalars(statement.order_by(InterviewUpdate.id)):
        doc.apply_update(payload)
    return doc


def updates_after(db: Session, *, interview_id: int, after_id: int) -> list[tuple[int, bytes]]:
    """The log's rows after ``after_id``, in order (a process catching up after a notice)."""
    rows = db.execute(select(InterviewUpdate.id, InterviewUpdate.payload)
                      .where(InterviewUpdate.interview_id == interview_id, InterviewUpdate.id > after_id)
                      .order_by(InterviewUpdate.id)).all()
    return [(row_id, payload) for row_id, payload in rows]


def change_document(db: Session, *, interview: Interview, change: Callable[[Doc[Any]], None]) -> None:
    """The server's own edit (a question's starter code): made on the document as stored, and
    stored as one more update, by no user."""
    doc = load_document(db, interview_id=interview.id)
    before = doc.get_state()
    change(doc)
    diff = doc.get_update(before)
    if diff != EMPTY_UPDATE:
        append_update(db, interview=interview, user_id=None, payload=diff)


def signal(db: Session, *, interview_id: int, message: dict[str, Any]) -> None:
    """At commit, every client in the room, in every process, gets ``message`` (the question
    changed, a run was queued, the interview ended)."""
    notices.notify(db, {"interview": interview_id, "kind": "signal", "message": message})


def record_event(db: Session, *, interview: Interview, user_id: int | None, kind: str,
                 detail: dict[str, Any]) -> InterviewEvent:
    """Something the room noticed (a paste, the page losing focus), kept for the replay."""
    row = InterviewEvent(interview_id=interview.id, user_id=user_id, kind=kind, detail=detail)
    db.add(row)
    db.flush()
    return row
