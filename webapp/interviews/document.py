"""The room's shared document in the database: an append-only log of Yjs updates.

An update is appended (and its notification queued in the same transaction) before anyone
else is sent it, so what a client has seen is durable, and the log is also the replay. Other
processes learn of new rows from a notification: on PostgreSQL a ``pg_notify`` in the writing
transaction (delivered at commit, dropped on rollback); on SQLite, where one process serves
every room, the same message goes to this process's listeners after the commit.
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from pycrdt import Doc
from sqlalchemy import event, func, insert, select, update
from sqlalchemy.orm import Session

from webapp.core.db import rows_changed, utcnow
from webapp.core.errors import Conflict, TooLarge
from webapp.interviews.models import Interview, InterviewEvent, InterviewUpdate

log = logging.getLogger("rehearse.interviews")

CHANNEL = "rehearse_interviews"
PROCESS_TOKEN = secrets.token_hex(8)  # which process sent a notice (its own are delivered without NOTIFY)
MAX_LOG_BYTES = 4 * 1024 * 1024  # the document's size limit: every update ever made to it
EMPTY_UPDATE = b"\x00\x00"

Listener = Callable[[dict[str, Any]], None]
_listeners: set[Listener] = set()
_listeners_lock = threading.Lock()
_PENDING = "rehearse.interview_notices"


class DocumentFull(TooLarge):
    pass


class InterviewEnded(Conflict):
    pass


def listen(listener: Listener) -> Callable[[], None]:
    """Call ``listener`` with every notice this process commits (and, on PostgreSQL, the hub
    also hears other processes' through LISTEN). Returns the way to stop listening."""
    with _listeners_lock:
        _listeners.add(listener)

    def stop() -> None:
        with _listeners_lock:
            _listeners.discard(listener)
    return stop


def _notify(db: Session, notice: dict[str, Any], *, here: bool = True) -> None:
    """Queue a notice for commit: NOTIFY on PostgreSQL, and this process's listeners (``here``)."""
    notice = {**notice, "origin": PROCESS_TOKEN}
    if db.get_bind().dialect.name == "postgresql":
        db.execute(select(func.pg_notify(CHANNEL, json.dumps(notice, separators=(",", ":")))))
    if not here:
        return
    pending: list[dict[str, Any]] | None = db.info.get(_PENDING)
    if pending is None:
        pending = db.info[_PENDING] = []
        event.listen(db, "after_commit", _deliver, once=True)
        event.listen(db, "after_rollback", _forget, once=True)
    pending.append(notice)


def _deliver(db: Session) -> None:
    notices = db.info.pop(_PENDING, [])
    with _listeners_lock:
        listeners = list(_listeners)
    for notice in notices:
        for listener in listeners:
            try:
                listener(notice)
            except Exception:  # a listener's failure must not undo or hide the commit
                log.exception("interview notice listener failed")


def _forget(db: Session) -> None:
    db.info.pop(_PENDING, None)


def append_update(db: Session, *, interview: Interview, user_id: int | None, payload: bytes) -> int:
    """Store one update (refused when the interview has ended or the document would outgrow
    its limit); other processes hear of it at commit. Returns its id."""
    if interview.is_finished:
        raise InterviewEnded({"form": "This interview has ended: the document is read-only."})
    return append_to_log(db, interview_id=interview.id, user_id=user_id, payload=payload)


def append_to_log(db: Session, *, interview_id: int, user_id: int | None, payload: bytes,
                  announce: bool = True) -> int:
    """``append_update`` by id, with the checks in the statement itself (the rooms' writer stores
    hundreds a second and loads no interview). ``announce=False``: the caller announces its rows
    itself (``announce_rows``), once per room for a whole group."""
    size = len(payload)
    grown = rows_changed(db, update(Interview).where(Interview.id == interview_id, Interview.ended_at.is_(None),
                                                     Interview.log_bytes + size <= MAX_LOG_BYTES)
                         .values(log_bytes=Interview.log_bytes + size)
                         .execution_options(synchronize_session=False))
    if grown != 1:
        if db.scalar(select(Interview.ended_at).where(Interview.id == interview_id)) is not None:
            raise InterviewEnded({"form": "This interview has ended: the document is read-only."})
        raise DocumentFull({"form": f"The document has reached its limit of {MAX_LOG_BYTES // 1024 // 1024} MiB "
                                    "of edits: no more changes can be stored."})
    row_id = db.scalar(insert(InterviewUpdate).values(interview_id=interview_id, user_id=user_id, payload=payload,
                                                      created_at=utcnow()).returning(InterviewUpdate.id))
    assert row_id is not None
    if announce:
        _notify(db, {"interview": interview_id, "kind": "update", "id": row_id})
    return row_id


def announce_rows(db: Session, *, interview_id: int, last_id: int) -> None:
    """Tell the other processes (not this one, whose rooms have the rows) that the room's log
    grew, up to ``last_id``: one notice for any number of rows."""
    _notify(db, {"interview": interview_id, "kind": "update", "id": last_id}, here=False)


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
    _notify(db, {"interview": interview_id, "kind": "signal", "message": message})


def record_event(db: Session, *, interview: Interview, user_id: int | None, kind: str,
                 detail: dict[str, Any]) -> InterviewEvent:
    """Something the room noticed (a paste, the page losing focus), kept for the replay."""
    row = InterviewEvent(interview_id=interview.id, user_id=user_id, kind=kind, detail=detail)
    db.add(row)
    db.flush()
    return row
