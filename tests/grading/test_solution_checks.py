"""A staged import's known-solution checks as the graders see them: claimed once, stored only by
the claim's holder, put back when their grader stopped, given up after their attempts."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from webapp.core.db import session_scope, utcnow
from webapp.grading import solution_checks
from webapp.questions.models import BankImport, CheckStatus, SolutionCheck


def _queued(app, count: int = 1) -> int:
    with session_scope(app.state.db.write_session) as db:
        staged = BankImport(filename="q.yaml", content="questions: []")
        db.add(staged)
        db.flush()
        db.add_all(SolutionCheck(import_id=staged.id, slug=f"q-{n}", what=f"The reference solution {n}", code="app = 1",
                                 should_pass=True, hidden_tests="", limits=None) for n in range(count))
        return staged.id


def _statuses(app) -> list[tuple[str, int, str | None]]:
    with session_scope(app.state.db.read_session) as db:
        checks = db.scalars(select(SolutionCheck).order_by(SolutionCheck.id))
        return [(c.status.value, c.attempts, c.problem) for c in checks]


def test_a_check_is_claimed_once_and_stored_only_by_its_holder(app) -> None:
    _queued(app, count=2)
    with session_scope(app.state.db.write_session) as db:
        first = solution_checks.claim_next_check(db)
        second = solution_checks.claim_next_check(db)
        assert first and second and first.check_id != second.check_id
        assert solution_checks.claim_next_check(db) is None
        assert first.task.fail_fast is False and first.task.code == "app = 1"
    with session_scope(app.state.db.write_session) as db:
        forged = solution_checks.CheckClaim(first.check_id, "not-the-token", first.what, True, first.task)
        assert not solution_checks.complete_check(db, claim=forged, score=100, problem=None)
        assert solution_checks.complete_check(db, claim=first, score=100, problem=None)
        assert not solution_checks.complete_check(db, claim=first, score=0, problem="twice")  # already done
    assert _statuses(app) == [("done", 1, None), ("running", 1, None)]


def test_a_check_whose_grader_stopped_is_retried_then_given_up(app) -> None:
    _queued(app)
    for attempt in range(1, solution_checks.MAX_ATTEMPTS + 1):
        with session_scope(app.state.db.write_session) as db:
            assert solution_checks.claim_next_check(db) is not None
            assert solution_checks.requeue_stale_checks(db) == 0  # a fresh claim is left alone
            db.execute(update(SolutionCheck).values(claimed_at=utcnow() - solution_checks.STALE - timedelta(seconds=1)))
            assert solution_checks.requeue_stale_checks(db) == 1
        expected = "done" if attempt == solution_checks.MAX_ATTEMPTS else "queued"
        assert _statuses(app)[0][:2] == (expected, attempt)
    status, _, problem = _statuses(app)[0]
    assert status == CheckStatus.done and problem and "could not be graded" in problem
