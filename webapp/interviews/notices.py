"""Telling every process's rooms what a transaction changed, once it commits.

On PostgreSQL a ``pg_notify`` in the writing transaction (delivered at commit, dropped on
rollback) reaches the other processes through their LISTEN (live/relay.py); this process's own
listeners get the same notice after the commit, without a round trip. On SQLite, where one
process serves every room, only the second half runs.
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

log = logging.getLogger("rehearse.interviews")

CHANNEL = "rehearse_interviews"
PROCESS_TOKEN = secrets.token_hex(8)  # which process sent a notice (its own are delivered without NOTIFY)
MAX_NOTIFY_BYTES = 7_900  # PostgreSQL refuses a payload of 8,000 bytes or more

Listener = Callable[[dict[str, Any]], None]
_listeners: set[Listener] = set()
_listeners_lock = threading.Lock()
_PENDING = "rehearse.interview_notices"


def listen(listener: Listener) -> Callable[[], None]:
    """Call ``listener`` with every notice this process commits (and, on PostgreSQL, the hub
    also hears other processes' through LISTEN). Returns the way to stop listening."""
    with _listeners_lock:
        _listeners.add(listener)

    def stop() -> None:
        with _listeners_lock:
            _listeners.discard(listener)
    return stop


def encode(notice: dict[str, Any]) -> str:
    return json.dumps({**notice, "origin": PROCESS_TOKEN}, separators=(",", ":"))


def notify(db: Session, notice: dict[str, Any], *, here: bool = True, others: dict[str, Any] | None = None) -> None:
    """Queue ``notice`` for commit: to the other processes (``others`` when they need a
    different one, e.g. without what does not fit a NOTIFY) and this process's listeners
    (``here``)."""
    if db.get_bind().dialect.name == "postgresql":
        db.execute(select(func.pg_notify(CHANNEL, encode(notice if others is None else others))))
    if not here:
        return
    pending: list[dict[str, Any]] | None = db.info.get(_PENDING)
    if pending is None:
        pending = db.info[_PENDING] = []
        event.listen(db, "after_commit", _deliver, once=True)
        event.listen(db, "after_rollback", _forget, once=True)
    pending.append({**notice, "origin": PROCESS_TOKEN})


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
