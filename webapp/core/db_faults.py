"""When the database itself fails: unreachable (restarting, network, connection dropped) or out of
disk space. Neither is a bug to show with a traceback; both pass, and what was not committed can
be sent again. ``database_fault`` names the kind; ``Outage`` logs one outage once, not per retry."""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from enum import Enum

from sqlalchemy import exc as sa_exc


class DatabaseFault(Enum):
    unavailable = "unavailable"  # cannot connect, connection lost, server shutting down or starting
    out_of_space = "out_of_space"  # the disk under the database is full


# PostgreSQL SQLSTATEs: disk_full; and class 08 (connection exception), 57P01-57P03 (admin or
# crash shutdown, cannot connect now), 53300 (too many connections).
_PG_OUT_OF_SPACE = {"53100"}
_PG_UNAVAILABLE = {"57P01", "57P02", "57P03", "53300"}
_SQLITE_UNAVAILABLE = {sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED}


def database_fault(error: BaseException) -> DatabaseFault | None:
    """The kind of database failure ``error`` is (or was caused by), or None for anything else."""
    seen = 0
    current: BaseException | None = error
    while current is not None and seen < 8:
        fault = _fault_of(current)
        if fault is not None:
            return fault
        current, seen = current.__cause__ or current.__context__, seen + 1
    return None


def _fault_of(error: BaseException) -> DatabaseFault | None:
    if isinstance(error, sa_exc.TimeoutError):  # no pooled connection came free in time
        return DatabaseFault.unavailable
    if isinstance(error, sa_exc.DBAPIError):
        if error.connection_invalidated:
            return DatabaseFault.unavailable
        return _driver_fault(error.orig) if error.orig is not None else None
    return _driver_fault(error)


def _driver_fault(error: BaseException) -> DatabaseFault | None:
    if isinstance(error, sqlite3.Error):
        code = getattr(error, "sqlite_errorcode", None)
        if code == sqlite3.SQLITE_FULL or "database or disk is full" in str(error):
            return DatabaseFault.out_of_space
        return DatabaseFault.unavailable if code in _SQLITE_UNAVAILABLE else None
    if isinstance(error, OSError) and error.errno == 28:  # ENOSPC from a file the database writes
        return DatabaseFault.out_of_space
    sqlstate = getattr(error, "sqlstate", None)  # psycopg's errors carry it; a failed connect has none
    if sqlstate in _PG_OUT_OF_SPACE:
        return DatabaseFault.out_of_space
    if sqlstate in _PG_UNAVAILABLE or (isinstance(sqlstate, str) and sqlstate.startswith("08")):
        return DatabaseFault.unavailable
    module = type(error).__module__
    if module.startswith("psycopg") and type(error).__name__ in {"OperationalError", "InterfaceError"} \
            and sqlstate is None:
        return DatabaseFault.unavailable  # connection refused, closed, or reset
    return None


class Outage:
    """Tells the log once that the database is failing and once that it is back, however many
    threads and retries meet it in between; and how long to wait before the next try."""

    def __init__(self, log: logging.Logger, what: str, *, first_wait: float, longest_wait: float = 5.0) -> None:
        self.log = log
        self.what = what
        self.first_wait = first_wait
        self.longest_wait = max(first_wait, longest_wait)
        self._lock = threading.Lock()
        self._since: float | None = None
        self._failures = 0
        self._back = threading.Event()  # set while there is no outage
        self._back.set()

    @property
    def ongoing(self) -> bool:
        return self._since is not None

    def failed(self, error: BaseException) -> bool:
        """Record a failure; False when it is no database fault (the caller reports it as a bug)."""
        fault = database_fault(error)
        if fault is None:
            return False
        with self._lock:
            self._failures += 1
            if self._since is None:
                self._since = time.monotonic()
                self._back.clear()
                reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0][:200]
                self.log.warning("%s: database %s (%s); retrying until it is back", self.what,
                                 fault.value.replace("_", " "), reason)
        return True

    def recovered(self) -> None:
        if self._since is None:  # the usual case, without taking the lock
            return
        with self._lock:
            ended = self._end()
        if ended is not None:
            self.log.warning("%s: database back after %.1f s (%d failed tries)", self.what, *ended)

    def _end(self) -> tuple[float, int] | None:
        if self._since is None:  # another thread saw the end first
            return None
        ended = time.monotonic() - self._since, self._failures
        self._since, self._failures = None, 0
        self._back.set()
        return ended

    def pause(self) -> None:
        """Wait before the next try: ``wait_seconds``, or less if another thread finds the database back."""
        self._back.wait(self.wait_seconds())

    def wait_seconds(self) -> float:
        """Doubling from ``first_wait`` up to ``longest_wait`` while the outage lasts."""
        return min(self.longest_wait, self.first_wait * 2 ** min(self._failures - 1, 10)) if self._failures else 0.0
