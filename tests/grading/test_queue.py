"""The database queue: atomic claims, leases, retries, and results stored once."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from webapp.core.db import session_scope, utcnow
from webapp.grading import queue
from webapp.grading.graders.base import GradeResult, GradingTask
from webapp.grading.worker import GradingService
from webapp.identity.models import Role
from webapp.questions.bank import default_bank_dir, read_path
from webapp.questions.importer import apply_import
from webapp.questions.models import Question
from webapp.submissions.models import Submission, SubmissionStatus

LEASE = timedelta(seconds=30)


def _setup(app, make_user, count: int = 3) -> list[int]:
    user = make_user(Role.candidate)
    with session_scope(app.state.db.write_session) as db:
        apply_import(db, bank=read_path(default_bank_dir()), actor=None, source="test")
        question = db.scalar(select(Question).where(Question.kind == "text").limit(1))
        rows = [Submission(user_id=user.id, question_id=question.id, revision_id=question.current_revision_id,
                           kind=question.kind, answer_text=f"answer {n} about ASGI and Starlette")
                for n in range(count)]
        db.add_all(rows)
        db.flush()
        return [r.id for r in rows]


def _claim(app, worker="w1", kinds=("text",)):
    with session_scope(app.state.db.write_session) as db:
        return queue.claim_next_job(db, worker=worker, kinds=kinds, lease=LEASE)


def _get(app, submission_id):
    with session_scope(app.state.db.read_session) as db:
        return db.get(Submission, submission_id)


def test_claims_are_oldest_first_and_never_shared(app, make_user) -> None:
    ids = _setup(app, make_user)
    claims = [_claim(app, worker=f"w{n}") for n in range(4)]
    assert [c.submission_id for c in claims[:3]] == ids
    assert claims[3] is None
    assert _get(app, ids[0]).status == SubmissionStatus.running


def test_kinds_without_a_grader_are_not_claimed(app, make_user) -> None:
    _setup(app, make_user, 1)
    assert _claim(app, kinds=("code",)) is None


def test_only_the_lease_holder_stores_a_result(app, make_user) -> None:
    [job] = _setup(app, make_user, 1)
    with time_machine.travel(utcnow(), tick=False) as clock:
        first = _claim(app, "slow-worker")
        clock.shift(LEASE + timedelta(seconds=1))
        with session_scope(app.state.db.write_session) as db:
            assert queue.requeue_expired_leases(db, max_attempts=3) == (1, 0)
        second = _claim(app, "other-worker")
        assert second.submission_id == job and second.attempt == 2
        with session_scope(app.state.db.write_session) as db:
            assert not queue.complete_job(db, claim=first, score=1, feedback={}, grader="g", grader_version="1")
            assert queue.complete_job(db, claim=second, score=80, feedback={"ok": 1}, grader="g", grader_version="1")
            assert not queue.complete_job(db, claim=second, score=5, feedback={}, grader="g", grader_version="1")
    stored = _get(app, job)
    assert (stored.status, stored.score, stored.attempts) == (SubmissionStatus.graded, 80, 2)


def test_heartbeats_keep_a_lease(app, make_user) -> None:
    _setup(app, make_user, 1)
    with time_machine.travel(utcnow(), tick=False) as clock:
        claim = _claim(app)
        for _ in range(5):
            clock.shift(timedelta(seconds=20))
            with session_scope(app.state.db.write_session) as db:
                assert queue.extend_leases(db, claims=[claim], lease=LEASE) == 1
                assert queue.requeue_expired_leases(db, max_attempts=3) == (0, 0)


def test_lost_worker_on_every_attempt_ends_failed(app, make_user) -> None:
    [job] = _setup(app, make_user, 1)
    with time_machine.travel(utcnow(), tick=False) as clock:
        for attempt in range(1, 4):
            assert _claim(app).attempt == attempt
            clock.shift(LEASE + timedelta(seconds=1))
            with session_scope(app.state.db.write_session) as db:
                queue.requeue_expired_leases(db, max_attempts=3)
    stored = _get(app, job)
    assert stored.status == SubmissionStatus.failed and "stopped responding" in stored.error


class _Exploding:
    name, version, long_running = "exploding", "1", False

    def grade(self, task: GradingTask) -> GradeResult:
        raise ValueError("rubric is on fire")


def test_grader_exception_is_retried_then_failed_with_the_error(app, make_user) -> None:
    [job] = _setup(app, make_user, 1)
    service = GradingService(app.state.db, {"text": _Exploding()}, concurrency=0, max_attempts=2)
    assert service.process_one()
    after_first = _get(app, job)
    assert after_first.status == SubmissionStatus.queued and "rubric is on fire" in after_first.error
    assert service.process_one()
    final = _get(app, job)
    assert final.status == SubmissionStatus.failed and final.error == "ValueError: rubric is on fire"
    assert final.finished_at is not None
    assert not service.process_one()


def test_service_grades_and_records_its_presence(app, make_user) -> None:
    ids = _setup(app, make_user, 2)
    service = app.state.grader
    while service.process_one():
        pass
    service.beat()
    for job in ids:
        graded = _get(app, job)
        assert graded.status == SubmissionStatus.graded and graded.grader == "claims"
        assert graded.started_at <= graded.finished_at
    from webapp.grading.models import GraderWorker

    with session_scope(app.state.db.read_session) as db:
        worker = db.get(GraderWorker, service.name)
        assert worker.jobs_done == 2 and "text" in worker.kinds


def test_background_work_meeting_a_database_outage_leaves_it_to_the_loop(app, caplog) -> None:
    """A lost connection in idle work (comparing answers) is the outage the loop reports once and
    waits out, not a bug with a traceback; a bug in it is logged and the loop goes on."""
    lost = OperationalError("SELECT 1", {}, Exception("server closed the connection"), connection_invalidated=True)

    def away(database):
        raise lost

    def buggy(database):
        raise ValueError("a bug in the check")

    service = GradingService(app.state.db, {"text": _Exploding()}, concurrency=0, idle_work=[away])
    with pytest.raises(OperationalError):
        service._idle_work()
    assert "background work" not in caplog.text
    service = GradingService(app.state.db, {"text": _Exploding()}, concurrency=0, idle_work=[buggy])
    assert service._idle_work() is False
    assert "background work buggy failed" in caplog.text and "a bug in the check" in caplog.text
