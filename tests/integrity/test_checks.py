"""The comparison queue on its own: what is queued, each pair stored once whichever answer's check
finds it, a claimed check not taken twice, and an answer that cannot be compared not retried for ever."""

from __future__ import annotations

import importlib.util
import secrets
from datetime import timedelta
from pathlib import Path
from unittest import mock

import pytest
import time_machine
from sqlalchemy import select, text
from sqlalchemy.exc import OperationalError

from tests.integrity.test_integrity_http import CODE_SLUG, _disguised
from webapp.assessments.models import Assessment, AssessmentAttempt, AssessmentQuestion
from webapp.core.db import session_scope, utcnow
from webapp.identity.models import Role
from webapp.integrity import checks
from webapp.integrity.models import CodeFingerprint, SimilarityMatch
from webapp.questions.models import Question, QuestionKind
from webapp.submissions.models import Submission, SubmissionStatus


def _answers(app, make_user, codes: list[str], *, kind: str = "assessment") -> list[int]:
    """Graded answers to the code question, one per new candidate, in one assessment; their ids."""
    owner = make_user(Role.interviewer)
    candidates = [make_user() for _ in codes]
    ids = []
    with session_scope(app.state.db.write_session) as db:
        question = db.scalars(select(Question).where(Question.slug == CODE_SLUG)).one()
        assessment = Assessment(title="Screen", owner_id=owner.id, time_limit_minutes=30,
                                invite_code=secrets.token_urlsafe(9), kind=kind)
        assessment.items.append(AssessmentQuestion(question_id=question.id, position=1))
        db.add(assessment)
        db.flush()
        for code, candidate in zip(codes, candidates, strict=True):
            attempt = AssessmentAttempt(assessment_id=assessment.id, candidate_id=candidate.id, started_at=utcnow())
            db.add(attempt)
            db.flush()
            row = Submission(user_id=candidate.id, question_id=question.id, revision_id=question.current_revision_id,
                             kind=QuestionKind.code, attempt_id=attempt.id, code=code, code_size=len(code),
                             status=SubmissionStatus.graded, score=80)
            db.add(row)
            db.flush()
            ids.append(row.id)
    return ids


def _queue(app, ids: list[int], *, practice: bool = False) -> None:
    with session_scope(app.state.db.write_session) as db:
        for submission_id in ids:
            checks.queue_check(db, submission_id=submission_id, practice=practice)


def _solutions(bank):
    return [s.code for s in next(q for q in bank.questions if q.slug == CODE_SLUG).correct_solutions]


def test_only_graded_assessment_code_answers_are_queued_once(app, bank, make_user) -> None:
    original = _solutions(bank)[0]
    in_assessment = _answers(app, make_user, [original])
    in_mock = _answers(app, make_user, [original], kind="mock")
    _queue(app, in_assessment + in_mock)
    _queue(app, in_assessment)  # a regrade
    _queue(app, _answers(app, make_user, [original]), practice=True)
    with session_scope(app.state.db.read_session) as db:
        assert list(db.scalars(select(CodeFingerprint.submission_id))) == in_assessment


def test_a_pair_is_stored_once_whichever_check_finds_it(app, bank, make_user) -> None:
    original = _solutions(bank)[0]
    first, second = _answers(app, make_user, [original, _disguised(original)])
    _queue(app, [first, second])
    database = app.state.db
    # Both checks load what they compare before either stores: each sees the other's row.
    with session_scope(database.read_session) as db:
        loaded = [checks._load(db, first), checks._load(db, second)]
    for (mine, others, boilerplate) in loaded:
        assert [o.submission_id for o in others] == [second if mine.submission_id == first else first]
        matches, fingerprints = checks._compare(mine, others, boilerplate)
        assert len(matches) == 1
        with session_scope(database.write_session) as db:
            checks._store(db, mine, matches, fingerprints)
    with session_scope(database.read_session) as db:
        pairs = [(m.first_id, m.second_id) for m in db.scalars(select(SimilarityMatch))]
        stored = {row.submission_id: row for row in db.scalars(select(CodeFingerprint))}
    assert pairs == [(first, second)]
    assert all(row.checked_at is not None and row.hashes for row in stored.values())
    assert checks.check_next(database) is False, "nothing left to compare"


def test_a_claimed_check_is_not_taken_twice_until_its_lease_ends(app, bank, make_user) -> None:
    ids = _answers(app, make_user, _solutions(bank)[:2])
    _queue(app, ids)
    with session_scope(app.state.db.write_session) as db:
        taken = [checks._claim(db), checks._claim(db), checks._claim(db)]
    assert sorted(taken[:2]) == sorted(ids) and taken[2] is None
    with time_machine.travel(utcnow() + checks.LEASE + timedelta(seconds=1)), \
            session_scope(app.state.db.write_session) as db:
        assert checks._claim(db) in ids, "a grader that died gives its check back"


def test_an_answer_that_cannot_be_compared_is_marked_checked(app, bank, make_user, caplog) -> None:
    ids = _answers(app, make_user, _solutions(bank)[:2])
    _queue(app, ids)
    with mock.patch("webapp.integrity.similarity.fingerprint", side_effect=RuntimeError("lexer broke")):
        assert checks.check_next(app.state.db) is True
    with session_scope(app.state.db.read_session) as db:
        assert sum(row.checked_at is not None for row in db.scalars(select(CodeFingerprint))) == 1
    assert "lexer broke" in caplog.text



def test_an_answer_whose_data_cannot_be_read_is_marked_checked_a_database_error_is_retried(
        app, bank, make_user, caplog) -> None:
    ids = _answers(app, make_user, _solutions(bank)[:2])
    _queue(app, ids)
    with mock.patch("webapp.integrity.similarity.boilerplate_of", side_effect=ValueError("odd starter")):
        assert checks.check_next(app.state.db) is True
    assert "odd starter" in caplog.text
    outage = OperationalError("SELECT", {}, Exception("server closed the connection"))
    with mock.patch("webapp.integrity.checks._load", side_effect=outage), pytest.raises(OperationalError):
        checks.check_next(app.state.db)
    with session_scope(app.state.db.read_session) as db:
        rows = {row.submission_id: row for row in db.scalars(select(CodeFingerprint))}
    assert rows[ids[0]].checked_at is not None
    assert rows[ids[1]].checked_at is None and rows[ids[1]].claimed_until is not None  # taken again after the lease


def _migration_0022():
    path = Path(__file__).parents[2] / "migrations" / "versions" / "20261203_0022_backfill_code_checks.py"
    spec = importlib.util.spec_from_file_location("migration_0022", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_answers_graded_before_the_check_existed_are_queued_by_the_migration(app, bank, make_user) -> None:
    original = _solutions(bank)[0]
    earlier = _answers(app, make_user, [original, _disguised(original)])  # graded, never queued
    mock_answer = _answers(app, make_user, [original], kind="mock")
    queue_unqueued = text(_migration_0022().QUEUE_UNQUEUED)
    with session_scope(app.state.db.write_session) as db:
        db.execute(queue_unqueued)
        db.execute(queue_unqueued)  # twice: nothing is queued again
    with session_scope(app.state.db.read_session) as db:
        queued = list(db.scalars(select(CodeFingerprint.submission_id).order_by(CodeFingerprint.submission_id)))
    assert queued == earlier and mock_answer[0] not in queued
    assert checks.check_all(app.state.db) == 2
    with session_scope(app.state.db.read_session) as db:
        pair = db.execute(select(SimilarityMatch.first_id, SimilarityMatch.second_id)).all()
    assert pair == [tuple(earlier)]
