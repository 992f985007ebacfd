"""Between web processes on PostgreSQL: one LISTEN connection per process, in a thread, and the
NOTIFY of what is not stored (cursors and presence). Updates themselves are announced by the
transaction that stores them (interviews/document.py), so a notice never arrives before its row.
A lost connection is retried; when it is back, every open room reads the log after its last
row, so nothing announced while it was down is missed."""

from __future__ import annotations

import base64
import json
import logging
import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, func, select

from webapp.core.db import CONNECT_TIMEOUT_SECONDS
from webapp.interviews.notices import CHANNEL, MAX_NOTIFY_BYTES, PROCESS_TOKEN, encode

log = logging.getLogger("rehearse.interviews")

LISTEN_SLICE_SECONDS = 1.0
RECONNECT_SECONDS = 2.0


class RoomListener:
    """Calls ``on_notice`` with every other process's notice, and ``on_listening`` whenever the
    LISTEN (re)starts (the rooms then catch up from the log)."""

    def __init__(self, engine: Engine, *, on_notice: Callable[[dict[str, Any]], None],
                 on_listening: Callable[[], None]) -> None:
        self.conninfo = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        self.on_notice, self.on_listening = on_notice, on_listening
        self.stopping = threading.Event()
        self.listening = threading.Event()
        self._thread = threading.Thread(target=self._run, name="interview-relay", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.stopping.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        import psycopg  # the postgres extra, which every PostgreSQL deployment has

        lost = False
        while not self.stopping.is_set():
            try:
                with psycopg.connect(self.conninfo, autocommit=True,
                                     connect_timeout=CONNECT_TIMEOUT_SECONDS) as connection:
                    connection.execute(f"LISTEN {CHANNEL}")
                    self.listening.set()
                    if lost:
                        log.warning("interview relay listening again")
                    lost = False
                    self.on_listening()
                    while not self.stopping.is_set():
                        for notify in connection.notifies(timeout=LISTEN_SLICE_SECONDS):
                            self._deliver(notify.payload)
            except psycopg.Error as exc:
                if not lost:
                    log.warning("interview relay lost its connection (%s); retrying", type(exc).__name__)
                lost = True
            self.listening.clear()
            self.stopping.wait(RECONNECT_SECONDS)

    def _deliver(self, payload: str) -> None:
        try:
            notice = json.loads(payload)
        except ValueError:
            return
        if isinstance(notice, dict) and notice.get("origin") != PROCESS_TOKEN:  # ours went out at commit
            self.on_notice(notice)


def publish_awareness(engine: Engine, *, interview_id: int, message: bytes) -> None:
    """Tell the other processes' rooms about a cursor or presence change (not stored; dropped
    when too big to notify, like a lost awareness message: the next one replaces it)."""
    notice = encode({"interview": interview_id, "kind": "awareness", "message": base64.b64encode(message).decode()})
    if len(notice) > MAX_NOTIFY_BYTES:
        return
    with engine.connect() as connection:
        connection.execute(select(func.pg_notify(CHANNEL, notice)))
        connection.commit()
