"""Waking graders when work is queued: one call, ``wake_on_commit``, for every enqueue.

The process that queues work wakes its own grader threads once its transaction commits (an
``after_commit`` hook, so a rolled-back enqueue wakes no one). On PostgreSQL it also sends a
NOTIFY in the queuing transaction (delivered at commit, dropped on rollback), so ``rehearse
worker`` processes on other machines claim the job at once instead of at their next poll.
Polling stays as the fallback: a lost notification costs one poll interval, never a job.
SQLite has no such channel; its graders live in the web process or on the same host.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from sqlalchemy import Engine, event, func, select
from sqlalchemy.orm import Session

from webapp.core.db import CONNECT_TIMEOUT_SECONDS

log = logging.getLogger("rehearse.grading")

CHANNEL = "rehearse_grading"
LISTEN_SLICE_SECONDS = 1.0  # how often the listener looks up to see whether it should stop
RECONNECT_SECONDS = 2.0


_PENDING = "rehearse.wake_graders"
_local_wakers: set[Callable[[], None]] = set()
_wakers_lock = threading.Lock()


def wake_on_commit(db: Session) -> None:
    """This transaction queues work: wake the graders when (and only if) it commits."""
    if db.info.get(_PENDING):
        return
    db.info[_PENDING] = True
    if db.get_bind().dialect.name == "postgresql":
        db.execute(select(func.pg_notify(CHANNEL, "")))


def add_local_waker(wake: Callable[[], None]) -> None:
    """Register a grader of this process to be woken by commits made in this process."""
    with _wakers_lock:
        _local_wakers.add(wake)


def remove_local_waker(wake: Callable[[], None]) -> None:
    with _wakers_lock:
        _local_wakers.discard(wake)


@event.listens_for(Session, "after_commit")
def _wake_after_commit(db: Session) -> None:
    if db.info.pop(_PENDING, False):
        with _wakers_lock:
            wakers = list(_local_wakers)
        for wake in wakers:
            wake()


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(db: Session) -> None:
    db.info.pop(_PENDING, None)


def supports_notifications(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


class QueueListener:
    """A thread holding one LISTEN connection; calls ``on_notify`` for each notification."""

    def __init__(self, engine: Engine, *, on_notify: Callable[[], None], stopping: threading.Event) -> None:
        # A dedicated connection outside the pool: it stays in LISTEN for the life of the process.
        self.conninfo = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        self.on_notify = on_notify
        self.stopping = stopping
        self.listening = threading.Event()
        self.lost_at: float | None = None  # when the connection was lost, while it is

    def run(self) -> None:
        import psycopg  # installed with the postgres extra, which any PostgreSQL deployment has

        while not self.stopping.is_set():
            try:
                self._listen()
            except psycopg.Error as exc:
                # Said once per outage (and once when it ends); graders poll meanwhile.
                if not self.listening.is_set() and self.lost_at is not None:
                    log.debug("queue listener still cannot connect (%s)", exc)
                else:
                    reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                    log.warning("queue listener lost its connection (%s); polling until it reconnects", reason)
                    self.lost_at = time.monotonic()
            self.listening.clear()
            self.stopping.wait(RECONNECT_SECONDS)

    def _listen(self) -> None:
        import psycopg

        with psycopg.connect(self.conninfo, autocommit=True, connect_timeout=CONNECT_TIMEOUT_SECONDS) as connection:
            connection.execute(f"LISTEN {CHANNEL}")
            self.listening.set()
            if self.lost_at is None:
                log.info("listening for queued work (NOTIFY %s)", CHANNEL)
            else:
                log.warning("listening for queued work again (NOTIFY %s), %.1f s after the connection was lost",
                            CHANNEL, time.monotonic() - self.lost_at)
                self.lost_at = None
            self.on_notify()  # work queued while we were not listening
            while not self.stopping.is_set():
                for _ in connection.notifies(timeout=LISTEN_SLICE_SECONDS):
                    self.on_notify()
