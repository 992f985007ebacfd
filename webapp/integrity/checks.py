"""Comparing an assessment's code answers, on the graders: each graded answer is queued (in the
grade's own transaction) and a grader with nothing else to do compares it with every other
candidate's answer to the same question, in this assessment and earlier ones.

A check looks at every other queued or checked answer it can see, not only earlier ones: of two
answers checked at the same moment, each sees the other's row (both were stored with their
grades before either check began), so no pair is missed; a pair found twice is stored once."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from webapp.assessments.models import Assessment, AssessmentAttempt
from webapp.core.db import Database, session_scope, utcnow
from webapp.integrity import similarity
from webapp.integrity.models import CodeFingerprint, SimilarityMatch
from webapp.questions.models import QuestionKind, QuestionRevision
from webapp.submissions.models import Submission

log = logging.getLogger("rehearse.integrity")

LEASE = timedelta(minutes=2)  # a check that takes longer (a grader that died) is taken up again


def queue_check(db: Session, *, submission_id: int, practice: bool) -> None:
    """The grading service's hook: a graded code answer of an assessment (not a mock, not
    practice) waits to be compared. Called in the transaction that stores the grade."""
    if practice:
        return
    row = db.execute(select(Submission.kind, Submission.user_id, Submission.attempt_id, Submission.question_id,
                            Assessment.kind)
                     .join(AssessmentAttempt, AssessmentAttempt.id == Submission.attempt_id)
                     .join(Assessment, Assessment.id == AssessmentAttempt.assessment_id)
                     .where(Submission.id == submission_id)).first()
    if row is None or row[0] != QuestionKind.code or row[4] != "assessment":
        return
    if db.get(CodeFingerprint, submission_id) is None:  # a regrade does not queue it twice
        db.add(CodeFingerprint(submission_id=submission_id, user_id=row[1], attempt_id=row[2], question_id=row[3]))


@dataclass(frozen=True)
class _Answer:
    submission_id: int
    user_id: int
    code: str
    revision_id: int
    hashes: list[int] | None
    token_coverage: int


def check_next(database: Database) -> bool:
    """Compare the oldest waiting answer with the others; False when none waits."""
    with session_scope(database.write_session) as db:
        claimed = _claim(db)
    if claimed is None:
        return False
    try:
        with session_scope(database.read_session) as db:
            mine, others, boilerplate = _load(db, claimed)
        matches, fingerprints = _compare(mine, others, boilerplate)
    except SQLAlchemyError:
        raise  # the database's trouble, not the answer's: the lease runs out and a grader tries again
    except Exception:  # this answer cannot be compared: marked checked, so it does not come back for ever
        log.exception("comparing answer %s with the others failed", claimed)
        with session_scope(database.write_session) as db:
            _mark_checked(db, claimed)
        return True
    with session_scope(database.write_session) as db:
        _store(db, mine, matches, fingerprints)
    return True


def _mark_checked(db: Session, submission_id: int) -> None:
    db.execute(update(CodeFingerprint).where(CodeFingerprint.submission_id == submission_id)
               .values(checked_at=utcnow(), claimed_until=None).execution_options(synchronize_session=False))


def check_all(database: Database) -> int:
    """Every waiting check now (tests and the benchmark; the graders take them one at a time)."""
    done = 0
    while check_next(database):
        done += 1
    return done


def _claim(db: Session) -> int | None:
    now = utcnow()
    waiting = (select(CodeFingerprint.submission_id)
               .where(CodeFingerprint.checked_at.is_(None),
                      or_(CodeFingerprint.claimed_until.is_(None), CodeFingerprint.claimed_until < now))
               .order_by(CodeFingerprint.queued_at, CodeFingerprint.submission_id).limit(1))
    if db.get_bind().dialect.name == "postgresql":
        waiting = waiting.with_for_update(skip_locked=True)
    return db.execute(update(CodeFingerprint)
                      .where(CodeFingerprint.submission_id == waiting.scalar_subquery(),
                             CodeFingerprint.checked_at.is_(None))
                      .values(claimed_until=now + LEASE).returning(CodeFingerprint.submission_id)
                      .execution_options(synchronize_session=False)).scalar()


def _load(db: Session, submission_id: int) -> tuple[_Answer, list[_Answer], dict[int, frozenset[int]]]:
    rows = db.execute(select(CodeFingerprint.submission_id, CodeFingerprint.user_id, Submission.code,
                             Submission.revision_id, CodeFingerprint.hashes, CodeFingerprint.token_coverage)
                      .join(Submission, Submission.id == CodeFingerprint.submission_id)
                      .where(CodeFingerprint.question_id == select(CodeFingerprint.question_id).where(
                          CodeFingerprint.submission_id == submission_id).scalar_subquery())).all()
    answers = [_Answer(*row) for row in rows]
    mine = next(a for a in answers if a.submission_id == submission_id)
    paired = set(db.scalars(select(SimilarityMatch.first_id).where(SimilarityMatch.second_id == submission_id))) | set(
        db.scalars(select(SimilarityMatch.second_id).where(SimilarityMatch.first_id == submission_id)))
    # One's own other answers are not copies; a pair the other answer's check found is not compared again.
    others = [a for a in answers if a.user_id != mine.user_id and a.submission_id not in paired]
    revisions = {a.revision_id for a in [mine, *others]}
    boilerplate = {revision.id: similarity.boilerplate_of(codes=[revision.starter_code, revision.reference_solution])
                   for revision in db.scalars(select(QuestionRevision).where(QuestionRevision.id.in_(revisions)))}
    return mine, others, boilerplate


def _compare(mine: _Answer, others: list[_Answer], boilerplate: dict[int, frozenset[int]]
             ) -> tuple[list[tuple[_Answer, similarity.Match]], dict[int, similarity.Fingerprint]]:
    """The pairs over the threshold, and the fingerprints computed on the way (stored, so no
    answer is fingerprinted twice). Starter and reference code of both answers' revisions never count."""
    fingerprints: dict[int, similarity.Fingerprint] = {}

    def fingerprint_of(answer: _Answer) -> similarity.Fingerprint:
        if answer.hashes is not None:
            return similarity.Fingerprint(hashes=frozenset(answer.hashes), token_coverage=answer.token_coverage)
        if answer.submission_id not in fingerprints:
            fingerprints[answer.submission_id] = similarity.fingerprint(
                code=answer.code, boilerplate=boilerplate.get(answer.revision_id, frozenset()))
        return fingerprints[answer.submission_id]

    own = fingerprint_of(mine)
    matches = []
    for other in others:
        if similarity.screen(a=own, b=fingerprint_of(other)) < similarity.THRESHOLD:
            continue  # cannot reach the threshold: no exact comparison needed
        shared = boilerplate.get(mine.revision_id, frozenset()) | boilerplate.get(other.revision_id, frozenset())
        match = similarity.compare(a=mine.code, b=other.code, boilerplate=shared)
        if similarity.flagged(match):
            matches.append((other, match))
    return matches, fingerprints


def _store(db: Session, mine: _Answer, matches: list[tuple[_Answer, similarity.Match]],
           fingerprints: dict[int, similarity.Fingerprint]) -> None:
    question_id = db.scalar(select(CodeFingerprint.question_id)
                            .where(CodeFingerprint.submission_id == mine.submission_id))
    for submission_id, found in fingerprints.items():
        db.execute(update(CodeFingerprint).where(CodeFingerprint.submission_id == submission_id,
                                                 CodeFingerprint.hashes.is_(None))
                   .values(hashes=sorted(found.hashes), token_coverage=found.token_coverage)
                   .execution_options(synchronize_session=False))
    for other, match in matches:
        first_is_mine = mine.submission_id < other.submission_id
        pair = (mine.submission_id, other.submission_id) if first_is_mine else (other.submission_id, mine.submission_id)
        if db.scalar(select(SimilarityMatch.id).where(SimilarityMatch.first_id == pair[0],
                                                      SimilarityMatch.second_id == pair[1])) is not None:
            continue  # the other answer's check found it first
        shares = (match.similarity_a, match.similarity_b) if first_is_mine else (match.similarity_b, match.similarity_a)
        regions = (match.regions_a, match.regions_b) if first_is_mine else (match.regions_b, match.regions_a)
        try:
            with db.begin_nested():
                db.add(SimilarityMatch(first_id=pair[0], second_id=pair[1], question_id=question_id,
                                       first_share=shares[0], second_share=shares[1],
                                       first_regions=[list(r) for r in regions[0]],
                                       second_regions=[list(r) for r in regions[1]]))
        except IntegrityError:  # found at the same moment by the other answer's check
            log.info("similar pair %s found twice", pair)
    _mark_checked(db, mine.submission_id)
