"""The session signals' bound per attempt holds when two requests of one attempt arrive at once
(each counts what is stored, then inserts: without a lock both pass the count)."""

from __future__ import annotations

import threading

from sqlalchemy import func, insert, select

from tests.integrity.test_checks import _answers, _solutions
from webapp.assessments.models import AssessmentAttempt
from webapp.core.db import session_scope, utcnow
from webapp.core.errors import RateLimited
from webapp.identity.models import User
from webapp.integrity import signals
from webapp.integrity.models import SessionSignal
from webapp.submissions.models import Submission


def test_two_requests_at_once_store_no_more_than_the_bound(app, bank, make_user) -> None:
    database = app.state.db
    submission_id = _answers(app, make_user, _solutions(bank)[:1])[0]
    with session_scope(database.read_session) as db:
        attempt_id, question_id = db.execute(select(Submission.attempt_id, Submission.question_id)
                                             .where(Submission.id == submission_id)).one()
    room = 10
    with session_scope(database.write_session) as db:
        db.execute(insert(SessionSignal), [
            {"attempt_id": attempt_id, "question_id": question_id, "visit": "visit-seed", "kind": "opened",
             "at_ms": n, "detail": {}, "received_at": utcnow().replace(year=2025)}
            for n in range(signals.MAX_PER_ATTEMPT - room)])
    # On PostgreSQL both requests are made to count at the same moment; SQLite's write
    # transactions run one at a time (the second waits at BEGIN), so there is nothing to line up.
    both_counted = threading.Barrier(1 if database.is_sqlite else 2, timeout=10)
    outcomes: list[str] = []

    def send() -> None:
        try:
            with session_scope(database.write_session) as db:
                attempt = db.get(AssessmentAttempt, attempt_id)
                user = db.get(User, attempt.candidate_id)
                both_counted.wait()  # both requests are in before either counts
                signals.record_signals(db, attempt=attempt, user=user, position=1, now=utcnow(),
                                       payload={"visit": "visit-race", "events": [
                                           {"kind": "paste", "at_ms": n, "size": 30, "external": True}
                                           for n in range(room)]})
            outcomes.append("stored")
        except RateLimited:
            outcomes.append("refused")

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    with session_scope(database.read_session) as db:
        stored = db.scalar(select(func.count()).select_from(SessionSignal)
                           .where(SessionSignal.attempt_id == attempt_id))
    assert sorted(outcomes) == ["refused", "stored"] and stored == signals.MAX_PER_ATTEMPT
