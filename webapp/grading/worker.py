"""The grader loop: threads that claim jobs from the queue, grade them and store results.

The same loop runs inside web processes (started by the app's lifespan) and as
``rehearse worker`` on any machine that reaches the database.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from webapp.core.db import Database, session_scope, utcnow
from webapp.core.db_faults import Outage, database_fault
from webapp.grading import example_runs, queue, solution_checks, wakeup
from webapp.grading.graders import Grader, GradingTask
from webapp.grading.graders.code import CodeGrader
from webapp.grading.models import GraderWorker
from webapp.questions.verification import verdict
from webapp.submissions.models import Submission

log = logging.getLogger("rehearse.grading")
T = TypeVar("T")


def task_for(submission: Submission) -> GradingTask:
    revision = submission.revision
    return GradingTask(
        kind=submission.kind, answer_text=submission.answer_text, choice_ids=tuple(submission.choice_ids),
        code=submission.code, rubric=tuple(revision.rubric), choices=tuple(revision.choices),
        multiple=revision.multiple, hidden_tests=revision.hidden_tests, limits=revision.limits,
    )


@dataclass(frozen=True)
class GradedAnswer:
    """A grade just stored, as ``on_graded`` hooks see it (in the transaction that stored it)."""

    submission_id: int
    user_id: int
    question_id: int
    score: int
    answered_at: datetime
    practice: bool  # not part of an assessment or mock interview


OnGraded = Callable[[Session, GradedAnswer], None]
IdleWork = Callable[[Database], bool]  # True when it did something (the loop looks again at once)


@dataclass(frozen=True)
class _Job:
    kind: str
    task: GradingTask
    user_id: int
    question_id: int
    queued_at: datetime
    practice: bool  # not part of an assessment or mock: its grade moves the practice schedule


def _load_job(db: Session, claim: queue.Claim) -> _Job | Exception:
    """What grading needs, read once; a failure is kept and reported as the job's error."""
    try:
        submission = db.scalars(select(Submission).options(joinedload(Submission.revision))
                                .where(Submission.id == claim.submission_id)).one()
        return _Job(kind=submission.kind.value, task=task_for(submission), user_id=submission.user_id,
                    question_id=submission.question_id, queued_at=submission.queued_at,
                    practice=submission.attempt_id is None)
    except Exception as exc:  # e.g. a revision that no longer parses: fail the job, not the claim
        if database_fault(exc) is not None:
            raise  # not the job's fault: the claim is rolled back and the job stays queued
        return exc


def lanes(graders: dict[str, Grader], concurrency: int) -> list[tuple[str, ...]]:
    """The kinds each grader thread claims: ``concurrency`` threads take every kind, oldest
    first; when some kinds run long (code in the sandbox, about a second each), one more thread
    takes only the quick ones, so a text answer never waits behind a queue of code runs."""
    every = tuple(graders)
    quick = tuple(kind for kind, grader in graders.items() if not grader.long_running)
    extra = [quick] if concurrency > 0 and quick and len(quick) < len(every) else []
    return [every] * concurrency + extra


class GradingService:
    """Owns the grader threads of one process."""

    def __init__(self, database: Database, graders: dict[str, Grader], *, concurrency: int,
                 lease_seconds: float = 30, poll_seconds: float = 1.0, max_attempts: int = 3,
                 on_graded: Sequence[OnGraded] = (), warm_sandboxes: int | None = None,
                 idle_work: Sequence[IdleWork] = ()) -> None:
        self.database = database
        self.on_graded = tuple(on_graded)  # e.g. practice scheduling: features above grading, called here
        self.idle_work = tuple(idle_work)  # e.g. comparing assessment answers: when no answer waits
        self.graders = graders
        self.concurrency = concurrency
        self.lanes = lanes(graders, concurrency)
        # Pairs of sandbox boxes started ahead for code answers: one per thread that grades code,
        # unless told otherwise (0: off; Settings.sandbox_warm). Started with the threads.
        self.warm_sandboxes = max(0, concurrency) if warm_sandboxes is None else warm_sandboxes
        self.lease = timedelta(seconds=lease_seconds)
        self.poll_seconds = poll_seconds
        self.max_attempts = max_attempts
        self.name = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(2)}"
        self.jobs_done = 0
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._inflight: set[queue.Claim] = set()
        self._lock = threading.Lock()
        self._thread_state = threading.local()  # per grader thread: whether its last job was an example run
        self.listener: wakeup.QueueListener | None = None
        # One outage, logged once by whichever thread meets it first (and once when it ends).
        self.outage = Outage(log, f"grader {self.name}", first_wait=poll_seconds)

    # lifecycle -------------------------------------------------------------
    def start(self) -> None:
        if self.concurrency <= 0 or self._threads:
            return
        self._threads = [threading.Thread(target=self._work, args=(kinds,), daemon=True,
                                          name=f"grader-{n}" if kinds == tuple(self.graders) else "grader-quick")
                         for n, kinds in enumerate(self.lanes)]
        self._threads.append(threading.Thread(target=self._heartbeat, name="grader-heartbeat", daemon=True))
        if wakeup.supports_notifications(self.database.engine):
            self.listener = wakeup.QueueListener(self.database.engine, on_notify=self.wake, stopping=self._stopping)
            self._threads.append(threading.Thread(target=self.listener.run, name="grader-listener", daemon=True))
        code = self.graders.get("code")
        if isinstance(code, CodeGrader):
            code.start_warm(self.warm_sandboxes)
        for thread in self._threads:
            thread.start()
        wakeup.add_local_waker(self.wake)
        log.info("grader %s started: %d thread(s) for %s", self.name, len(self.lanes), sorted(self.graders))

    def stop(self, timeout: float = 10) -> None:
        """Finish jobs in hand (up to ``timeout``); unfinished leases expire and are retried elsewhere."""
        wakeup.remove_local_waker(self.wake)
        self._stopping.set()
        self._wake.set()
        for thread in self._threads:
            thread.join(timeout)
        self._threads = []
        code = self.graders.get("code")
        if isinstance(code, CodeGrader):
            code.stop_warm()  # the boxes started ahead: none may outlive the service

    def wake(self) -> None:
        """A submission was queued: look now instead of at the next poll."""
        self._wake.set()

    # work ------------------------------------------------------------------
    def process_one(self, kinds: Sequence[str] | None = None) -> bool:
        """Claim, grade and store one job (of ``kinds``, default all ours); False when there was none."""
        # The answer is read in the claiming transaction: one round trip fewer per job.
        kinds = list(kinds or self.graders)
        runs_code = "code" in kinds and "code" in self.graders
        # Example runs come first (a candidate watches the page), but a thread that just ran one
        # takes an answer next: a flood of runs from many accounts slows answers, never stops them.
        runs_first = runs_code and not getattr(self._thread_state, "ran_example", False)
        self._thread_state.ran_example = False
        if runs_first and self._run_examples():
            self._thread_state.ran_example = True
            return True
        with session_scope(self.database.write_session) as db:
            claim = queue.claim_next_job(db, worker=self.name, kinds=kinds, lease=self.lease)
            job = _load_job(db, claim) if claim is not None else None
        if claim is None or job is None:  # no answer waits: a run, then an import's known solutions, if any
            return runs_code and ((not runs_first and self._run_examples()) or self._check_one()
                                  or self._idle_work())
        with self._lock:
            self._inflight.add(claim)
        try:
            self._grade(claim, job)
        finally:
            with self._lock:
                self._inflight.discard(claim)
        return True

    def _grade(self, claim: queue.Claim, job: _Job | Exception) -> None:
        try:
            if isinstance(job, Exception):
                raise job
            grader = self.graders[job.kind]
            result = grader.grade(job.task)
        except Exception as exc:  # a grader bug must not kill the loop or lose the job
            log.exception("grading submission %s failed (attempt %s)", claim.submission_id, claim.attempt)
            error = f"{type(exc).__name__}: {exc}"
            self._store(lambda db: queue.fail_job(db, claim=claim, error=error, max_attempts=self.max_attempts))
            return

        def store(db: Session) -> bool:
            stored = queue.complete_job(db, claim=claim, score=result.score, feedback=result.feedback,
                                        grader=grader.name, grader_version=grader.version)
            if stored:  # what builds on a grade (the practice schedule) moves in the same transaction
                graded = GradedAnswer(submission_id=claim.submission_id, user_id=job.user_id,
                                      question_id=job.question_id, score=result.score, answered_at=job.queued_at,
                                      practice=job.practice)
                for hook in self.on_graded:
                    hook(db, graded)
            return stored

        stored = self._store(store)
        if stored:
            self.jobs_done += 1
            log.info("graded submission %s: score %s (%s)", claim.submission_id, result.score, self.name)
        else:
            log.warning("lease on submission %s was lost; the result was discarded", claim.submission_id)

    def _run_examples(self) -> bool:
        """Run one candidate's code against a question's example tests; False when none waits."""
        with session_scope(self.database.write_session) as db:
            claim = example_runs.claim_next_run(db)
        if claim is None:
            return False
        try:
            result = self.graders["code"].grade(claim.task).feedback
        except Exception as exc:  # the tests or the sandbox, not the candidate's code: say so on their page
            log.exception("an example run failed")
            result = {"problem": f"The examples could not be run ({type(exc).__name__}). Try again in a moment."}
        self._store(lambda db: example_runs.complete_run(db, claim=claim, result=result))
        return True

    def _idle_work(self) -> bool:
        """One piece of a feature's background work (it holds its own claims); False when none waits."""
        for work in self.idle_work:
            try:
                if work(self.database):
                    return True
            except Exception as exc:  # its own failure: never the grader loop's
                if database_fault(exc) is not None:
                    raise  # the database is away: the loop says so once and waits, without a traceback
                log.exception("background work %s failed", getattr(work, "__name__", work))
        return False

    def _check_one(self) -> bool:
        """Run one known solution of a staged import against its hidden tests; False when none waits."""
        with session_scope(self.database.write_session) as db:
            check = solution_checks.claim_next_check(db)
        if check is None:
            return False
        try:
            problem = verdict(check.what, should_pass=check.should_pass, suite=check.suite,
                              outcome=(outcome := self.graders["code"].grade(check.task)))
            score = outcome.score
        except Exception as exc:  # the tests or the sandbox, not the solution: say so on the import page
            log.exception("checking a known solution failed")
            problem, score = f"{check.what} could not be graded: {exc}", 0
        self._store(lambda db: solution_checks.complete_check(db, claim=check, score=score, problem=problem))
        return True

    def _store(self, write: Callable[[Session], T]) -> T:
        """Store a grade (or a grader's error) we hold the lease for, retrying while the database is
        unreachable: the job stays in hand and heartbeats keep its lease, so the work is not redone."""
        while True:
            try:
                with session_scope(self.database.write_session) as db:
                    outcome = write(db)
                self.outage.recovered()
                return outcome
            except Exception as exc:
                if self._stopping.is_set() or not self.outage.failed(exc):
                    raise  # a bug, or shutting down: the lease expires and the job is retried
            self.outage.pause()

    def _work(self, kinds: tuple[str, ...]) -> None:
        while not self._stopping.is_set():
            try:
                worked = self.process_one(kinds)
                self.outage.recovered()
            except Exception as exc:
                if not self.outage.failed(exc):  # the database failing is logged once, anything else in full
                    log.exception("grader loop error")
                worked = False
            if not worked:
                self._wake.wait(self.outage.wait_seconds() if self.outage.ongoing else self.poll_seconds)
                self._wake.clear()

    def _heartbeat(self) -> None:
        interval = max(0.2, self.lease.total_seconds() / 3)
        while not self._stopping.wait(interval):
            try:
                self.beat()
                self.outage.recovered()
            except Exception as exc:
                if not self.outage.failed(exc):
                    log.exception("grader heartbeat failed")

    def beat(self) -> None:
        """Extend our leases, report that we are alive, and requeue jobs of lost workers."""
        with self._lock:
            claims = list(self._inflight)
        with session_scope(self.database.write_session) as db:
            queue.extend_leases(db, claims=claims, lease=self.lease)
            self._record_presence(db)
            requeued, failed = queue.requeue_expired_leases(db, max_attempts=self.max_attempts)
            solution_checks.requeue_stale_checks(db)
            example_runs.sweep_runs(db)
        if requeued or failed:
            log.warning("expired leases: %d requeued, %d failed", requeued, failed)

    def _record_presence(self, db: Session) -> None:
        row = db.scalar(select(GraderWorker).where(GraderWorker.id == self.name))
        if row is None:
            row = GraderWorker(id=self.name, hostname=socket.gethostname(), pid=os.getpid(),
                               concurrency=self.concurrency, kinds=sorted(self.graders))
            db.add(row)
        row.last_heartbeat, row.jobs_done = utcnow(), self.jobs_done
