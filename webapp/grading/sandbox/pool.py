"""A few pairs of boxes started ahead of the answers they will serve (docs/sandbox.md, "Warm boxes").

Starting two boxes and importing FastAPI, uvicorn and httpx2 is most of what a code answer
costs. The pool keeps ``size`` pairs started (sandbox/pair.py): each has done that work and
waits for one job. ``take`` hands a ready pair to exactly one run and never again; once the
run ends its boxes are killed (sandbox/challenge.py), and the pool's thread starts a new pair
in its place (then, not while the run needs the CPU). A pair that sat ready longer than
``max_idle`` is replaced; one that was not warm within ``warm_timeout``, or died while
waiting, is discarded, and failures to start back off (runs start cold meanwhile). ``close``
kills every pair not in use and waits for those in use: their boxes die with the pool's
thread (bubblewrap's ``--die-with-parent`` follows the thread that started them).

bwrap mode only: in process mode the process limit is the host's per-user count, which a box
started ahead cannot take over from the question.
"""

from __future__ import annotations

import logging
import os
import selectors
import signal
import subprocess
import threading
import time
from collections import Counter, deque

from webapp.grading.sandbox.boxes import Sandbox
from webapp.grading.sandbox.limits import Limits
from webapp.grading.sandbox.linux import sweep_orphans
from webapp.grading.sandbox.pair import WARM_CEILING, BoxPair, fits_warm_box, outer_limits

log = logging.getLogger("rehearse.sandbox")
MAX_IDLE = 600.0  # seconds a pair may wait ready before it is replaced by a fresh one
WARM_TIMEOUT = 60.0  # a pair not warm by then is discarded
TAKE_WAIT = 2.0  # a run waits this long for a pair on its way (it is ahead of a cold start)
RETRY_AFTER = (1.0, 2.0, 5.0, 10.0, 30.0, 60.0)  # seconds after 1, 2, … failures in a row
STOP_SIGNALS = {signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT}


class WarmPool:
    def __init__(self, sandbox: Sandbox, *, size: int, max_idle: float = MAX_IDLE,
                 warm_timeout: float = WARM_TIMEOUT, take_wait: float = TAKE_WAIT) -> None:
        if sandbox.mode != "bwrap":
            raise ValueError(f"warm boxes need the bwrap sandbox, not {sandbox.mode}")
        self.sandbox, self.size = sandbox, size
        self.max_idle, self.warm_timeout, self.take_wait = max_idle, warm_timeout, take_wait
        self.counts: Counter[str] = Counter()  # started, warm, taken, missed, unfit, expired, failed
        self._lock = threading.Condition()
        self._ready: deque[BoxPair] = deque()
        self._warming: list[BoxPair] = []
        self._ready_since: dict[str, float] = {}
        self._loaned = 0
        self._closing = False
        self._close_by = float("inf")  # pairs on loan are waited for until then
        self._failures, self._retry_at = 0, 0.0
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        self._thread: threading.Thread | None = None

    # the graders' side --------------------------------------------------------
    def start(self) -> None:
        if self._thread is None and self.size > 0:
            if orphans := sweep_orphans():
                log.warning("killed %d sandbox process(es) left behind by a grader process that died", orphans)
            self._thread = threading.Thread(target=self._fill, name="sandbox-pool", daemon=True)
            self._thread.start()
            log.info("warm sandbox pool: %d pair(s) of boxes kept ready", self.size)

    def take(self, limits: Limits, *, solution_bytes: int) -> BoxPair | None:
        """A ready pair for one run (it is this caller's alone), or None: run cold."""
        if not fits_warm_box(limits, solution_bytes=solution_bytes):
            self._count("unfit")
            return None
        dead: list[BoxPair] = []
        pair = None
        deadline = time.monotonic() + self.take_wait
        with self._lock:
            while not self._closing and pair is None:
                while self._ready and pair is None:
                    candidate = self._ready.popleft()
                    self._ready_since.pop(candidate.job, None)
                    if candidate.hear():
                        pair = candidate
                    else:
                        dead.append(candidate)
                left = deadline - time.monotonic()
                if pair is not None or not self._coming(left) or left <= 0:
                    break
                self._lock.wait(left)
            if pair is not None:
                self._loaned += 1
                pair.on_closed = self._returned
            self.counts["taken" if pair is not None else "missed"] += 1
            self.counts["failed"] += len(dead)
        if dead:
            self._wake()
        for broken in dead:
            broken.discard()
        return pair

    def broken(self, pair: BoxPair) -> None:
        """A pair taken from this pool failed its hand-over (it died while waiting): discard it, count it."""
        pair.discard()
        self._failed("a pair of boxes did not take its job (it ended while waiting)")

    def _coming(self, within: float) -> bool:
        """Whether a pair is on its way: warming, or about to be started in place of one used
        (waiting for it beats a cold start, which would do the same work from scratch)."""
        missing = self.size - len(self._ready) - len(self._warming) - self._loaned
        return bool(self._warming) or (missing > 0 and self._retry_at <= time.monotonic() + within)

    def close(self, timeout: float = 10) -> None:
        """Kill every pair not in use; wait up to ``timeout`` for those in use to be done."""
        with self._lock:
            self._closing = True
            self._close_by = time.monotonic() + timeout
            self._lock.notify_all()
        self._wake()
        if self._thread is not None:
            self._thread.join(timeout + 5)
        self._discard_idle()
        with self._lock:
            if self._wake_w >= 0 and (self._thread is None or not self._thread.is_alive()):
                os.close(self._wake_r)
                os.close(self._wake_w)
                self._wake_r = self._wake_w = -1

    def state(self) -> dict[str, int]:
        """How many pairs are ready, warming and in use, with the counters (for tests and benchmarks)."""
        with self._lock:
            return {"ready": len(self._ready), "warming": len(self._warming), "loaned": self._loaned,
                    **self.counts}

    def ready_jobs(self) -> list[str]:
        with self._lock:
            return [pair.job for pair in self._ready]

    # the pool's thread ------------------------------------------------------------
    def _fill(self) -> None:
        # Stop signals are for the main thread: one delivered to this thread (busy starting a box)
        # would run its handler only once the main thread woke up by itself.
        signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
        try:
            while not self._closing:
                self._replace_stale()
                self._start_missing()
                self._serve_events()
        except Exception:
            log.exception("the warm sandbox pool stopped; code runs start cold")
        finally:
            with self._lock:
                self._closing = True  # take() hands out nothing more
            self._discard_idle()
            with self._lock:  # boxes on loan die with this thread: let their runs finish first
                while self._loaned and time.monotonic() < self._close_by:
                    self._lock.wait(0.1)

    def _replace_stale(self) -> None:
        now = time.monotonic()
        with self._lock:
            expired = [p for p in self._ready if now - self._ready_since.get(p.job, now) > self.max_idle]
            stuck = [p for p in self._warming if now - p.born > self.warm_timeout]
            for pair in expired:
                self._ready.remove(pair)
                self._ready_since.pop(pair.job, None)
            self._warming = [p for p in self._warming if p not in stuck]
            self.counts["expired"] += len(expired)
        for pair in expired + stuck:
            pair.discard()
        if stuck:
            self._failed(f"a pair of boxes was not ready within {self.warm_timeout:g} s")

    def _start_missing(self) -> None:
        while not self._closing and time.monotonic() >= self._retry_at:
            with self._lock:  # a pair on loan is replaced once its run is over, not while it competes for CPU
                if len(self._ready) + len(self._warming) + self._loaned >= self.size:
                    return
            try:
                pair = BoxPair(self.sandbox, app_limits=outer_limits(WARM_CEILING))
            except (OSError, subprocess.SubprocessError) as exc:
                self._failed(f"a pair of boxes could not start: {exc}")
                return
            with self._lock:
                self._warming.append(pair)
                self.counts["started"] += 1

    def _serve_events(self) -> None:
        now = time.monotonic()
        timeout = min(1.0, max(0.01, self._retry_at - now)) if self._retry_at > now else 1.0
        owner: dict[int, BoxPair] = {}
        with selectors.DefaultSelector() as selector:
            with self._lock:  # registered while no run can take (and close) these pairs
                selector.register(self._wake_r, selectors.EVENT_READ)
                for pair in [*self._warming, *self._ready]:
                    for fd in pair.watched_fds():
                        owner[fd] = pair
                        selector.register(fd, selectors.EVENT_READ)
            events = selector.select(timeout)  # a pair taken meanwhile is checked for below
        try:
            while os.read(self._wake_r, 512):
                pass
        except BlockingIOError:
            pass
        broken = []
        with self._lock:
            for pair in {owner[key.fd].job: owner[key.fd] for key, _ in events if key.fd in owner}.values():
                if pair in self._warming:
                    if not pair.hear():
                        self._warming.remove(pair)
                        broken.append(pair)
                    elif pair.warm:
                        self._warming.remove(pair)
                        self._ready.append(pair)
                        self._ready_since[pair.job] = time.monotonic()
                        self.counts["warm"] += 1
                        self._failures = 0
                        self._lock.notify_all()
                elif pair in self._ready and not pair.hear():
                    self._ready.remove(pair)
                    self._ready_since.pop(pair.job, None)
                    broken.append(pair)
        for pair in broken:
            pair.discard()
        if broken:
            self._failed(f"{len(broken)} pair(s) of boxes ended while waiting for an answer")

    def _discard_idle(self) -> None:
        with self._lock:
            idle = [*self._ready, *self._warming]
            self._ready.clear()
            self._warming.clear()
            self._ready_since.clear()
        for pair in idle:
            pair.discard()

    # bookkeeping ----------------------------------------------------------------
    def _returned(self) -> None:
        with self._lock:
            self._loaned -= 1
            self._lock.notify_all()
        self._wake()  # start its replacement

    def _failed(self, why: str) -> None:
        with self._lock:
            self.counts["failed"] += 1
            self._failures += 1
            wait = RETRY_AFTER[min(self._failures, len(RETRY_AFTER)) - 1]
            self._retry_at = time.monotonic() + wait
        log.warning("warm sandbox pool: %s; runs start cold, next try in %g s", why, wait)

    def _count(self, name: str) -> None:
        with self._lock:
            self.counts[name] += 1

    def _wake(self) -> None:
        with self._lock:  # never a number closed meanwhile (it could be another thread's file by then)
            if self._wake_w < 0:
                return
            try:
                os.write(self._wake_w, b".")
            except BlockingIOError:
                pass  # already awake
