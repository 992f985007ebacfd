"""The periodic sweep: every web process sends, every ``interval`` seconds, the messages whose retry
is due (delivery.py claims each safely, so processes sweeping at once never send one twice)."""

from __future__ import annotations

import logging
import threading

from webapp.core.db import Database
from webapp.core.db_faults import Outage
from webapp.mail.delivery import SmtpServer, deliver_pending

log = logging.getLogger("rehearse.mail")


class OutboxSweeper:
    """A thread that runs ``deliver_pending`` every ``interval`` seconds (0: never; nothing starts)."""

    def __init__(self, database: Database, *, server: SmtpServer, interval: float) -> None:
        self.database, self.server, self.interval = database, server, interval
        self.outage = Outage(log, "outbox sweep", first_wait=interval or 1)
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self.interval <= 0 or self._thread is not None:
            return
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="outbox-sweeper", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 15) -> None:
        """Stop after the message in hand (a send times out after 10 s)."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def sweep(self) -> int:
        """One round: how many messages went out (a failing database is logged once, and waited out)."""
        try:
            sent = deliver_pending(self.database, server=self.server)
        except Exception as exc:
            if not self.outage.failed(exc):
                log.exception("outbox sweep failed")
            return 0
        self.outage.recovered()
        if sent:
            log.info("outbox sweep: %d message(s) sent", sent)
        return sent

    def _run(self) -> None:
        while not self._stopping.wait(self.interval):
            self.sweep()
